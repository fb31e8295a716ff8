#!/usr/bin/env python3
"""A disk that fills up exactly when 'dray put' saves a STATE.

On a 1 MiB tmpfs holding a new spool, a filler file leaves two free
pages: enough for a one-record batch and the stream's counters, not for
the STATE file that follows them. The input is a SCHEMA, one RECORD and
a STATE. Needs root (mount); otherwise skipped (exit 77).

1. spool.on_full: wait. put must wait for space as it does for batches;
   this script, playing an operator, deletes the filler once put is
   stalled on the full disk. put exits 0, the record is stored and the
   STATE saved.
2. spool.on_full: fail. put exits non-zero with one line saying the disk
   is full; the batch committed before stays intact.
"""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402

INPUT = "\n".join([
    L.schema_line("s"),
    L.record_line("s", {"id": 1, "name": "a", "v": 1}),
    L.state_line({"n": 1}),
]) + "\n"


def fill(mnt, leave_pages):
    st = os.statvfs(mnt)
    with open(os.path.join(mnt, "filler"), "wb") as f:
        f.write(b"\0" * ((st.f_bavail - leave_pages) * st.f_frsize))
    return os.statvfs(mnt).f_bavail


def prepare(a, folder, mnt, on_full):
    config = L.write_config(folder, spool=os.path.join(mnt, "spool"),
                            spool_opts={"on_full": on_full})
    L.put_ok(a, config, "shop", b"", "dray put making the spool")
    left = fill(mnt, 2)
    L.check(left == 2, f"the filler left {left} pages, not 2")
    return config


def waits(a, folder, mnt):
    config = prepare(a, folder, mnt, "wait")
    err_path = os.path.join(folder, "put.stderr")
    with open(err_path, "wb") as err:
        p = subprocess.Popen(L.put_cmd(a, config, "shop"),
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=err, env=L.clean_env())
    p.stdin.write(INPUT.encode())
    p.stdin.close()
    deadline = time.monotonic() + 60
    removed = False
    still = 0
    try:
        while p.poll() is None:
            L.check(time.monotonic() < deadline,
                    "dray put did not finish within 60 s")
            full = os.statvfs(mnt).f_bavail == 0
            still = still + 1 if full else 0
            if still >= 5 and not removed:
                os.unlink(os.path.join(mnt, "filler"))
                removed = True
            time.sleep(0.02)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    with open(err_path, "rb") as f:
        err = f.read().decode(errors="replace").strip()
    L.check(p.returncode == 0,
            f"with spool.on_full: wait, a full disk when the STATE is saved "
            f"made dray put exit {p.returncode} instead of waiting for "
            f"space; stderr:\n{err}")
    rows = L.dump(a, os.path.join(mnt, "spool"))
    L.check([r["record"]["id"] for r in rows] == [1],
            f"records stored: {rows}")
    L.check(L.state(a, config, "shop") == {"n": 1}, "the STATE was not saved")
    return removed


def fails(a, folder, mnt):
    config = prepare(a, folder, mnt, "fail")
    p = L.run_put(a, config, "shop", INPUT.encode())
    L.check(p.returncode != 0, "dray put on a full disk exited 0")
    line = L.one_line_error(p.stderr, "dray put on a full disk")
    L.check("full" in line.lower() or "no space" in line.lower(),
            f"the error does not say the disk is full: {line}")
    rows = L.dump(a, os.path.join(mnt, "spool"))
    L.check([r["record"]["id"] for r in rows] == [1],
            f"records stored: {rows}")
    return line


def run(a, scratch):
    if os.geteuid() != 0:
        return "not root: a full disk needs a small tmpfs (mount)"
    results = []
    for part in ("wait", "fail"):
        mnt = os.path.join(scratch, part, "mnt")
        os.makedirs(mnt)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m",
                            "tmpfs", mnt], capture_output=True, text=True)
        if p.returncode != 0:
            return f"cannot mount a tmpfs: {p.stderr.strip()}"
        try:
            folder = os.path.join(scratch, part)
            if part == "wait":
                removed = waits(a, folder, mnt)
                results.append("on_full: wait: put waited for space, then "
                               "saved the STATE" +
                               ("" if removed else " (it never stalled)"))
            else:
                results.append("on_full: fail: " + fails(a, folder, mnt))
        finally:
            if subprocess.run(["umount", mnt]).returncode:
                subprocess.run(["umount", "-l", mnt])
    for r in results:
        print(r)
    return None


if __name__ == "__main__":
    sys.exit(L.main(run))
