#!/usr/bin/env python3
"""A full disk under the spool: a 2 MiB tmpfs, and four times as much
input. Needs root (mount); otherwise skipped (exit 77) with the reason.

1. spool.on_full: fail. 'dray put' exits non-zero with a one-line error
   that says the disk is full; every visible batch is complete; the
   records present are a per-stream prefix of the input; the saved STATE
   claims nothing that is not durable.
2. spool.on_full: wait, on a fresh tmpfs. put waits; this script acts as
   a loader: when the disk is full and nothing moves, it moves the oldest
   batch out (to a folder on another disk), until put finishes. put exits
   0, every record of the input is present exactly once across the spool
   and the moved batches, in order, and the last STATE is saved.

The tmpfs is unmounted on every path, failures included.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402

SIZE = 2 * 1024 * 1024


def mount(mnt):
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755",
                        "tmpfs", mnt], capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip() or
                                           f"mount exited {p.returncode}")


def umount(mnt):
    if subprocess.run(["umount", mnt], capture_output=True).returncode:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def free_bytes(mnt):
    st = os.statvfs(mnt)
    return st.f_bavail * st.f_frsize


def on_full_fail(a, folder, mnt, inp):
    spool = os.path.join(mnt, "spool")
    config = L.write_config(folder, spool=spool, batch={"max_records": 300},
                            spool_opts={"on_full": "fail"})
    p = L.run_put(a, config, "shop", inp.data)
    L.check(p.returncode != 0,
            "dray put on a full disk with on_full: fail exited 0")
    line = L.one_line_error(p.stderr, "dray put on a full disk")
    low = line.lower()
    L.check("no space" in low or "full" in low,
            f"the error does not say the disk is full: {line}")
    rows = L.dump(a, spool)
    L.check(rows, "nothing reached the spool before the disk was full")
    L.check_records_match(rows, inp)
    L.check_prefix(rows, inp)
    L.check_state_durable(L.state(a, config, "shop"), inp, rows)
    L.check_unique_batches(L.dump_batches(a, spool))
    left = os.listdir(os.path.join(spool, "tmp"))
    return line, len(rows), left


def on_full_wait(a, folder, mnt, inp):
    spool = os.path.join(mnt, "spool")
    overflow = os.path.join(folder, "moved")
    config = L.write_config(folder, spool=spool, batch={"max_records": 300},
                            spool_opts={"on_full": "wait"})
    rc, err, moved, stalls = L.put_with_mover(
        a, config, "shop", inp.data, spool, overflow,
        lambda: free_bytes(mnt) < 64 * 1024)
    L.check(rc == 0, f"dray put with on_full: wait exited {rc}; stderr:\n"
            f"{err}")
    L.check(moved > 0, "no batch had to be moved: the input fitted")
    rows = L.dump_merged(a, [spool, overflow])
    L.check_records_match(rows, inp)
    got = L.check_prefix(rows, inp)
    for s in inp.streams:
        L.check(got[s] == len(inp.ids[s]),
                f"stream {s}: {got[s]} of {len(inp.ids[s])} records stored")
    saved = L.state(a, config, "shop")
    last = max(x for x in inp.states if x is not None)
    L.check(saved == {"n": last}, f"saved STATE {saved}, expected n={last}")
    return moved, stalls, len(rows), err.strip()


def run(a, scratch):
    if os.geteuid() != 0:
        return "not root: a full disk needs a small tmpfs (mount)"
    inp = L.Input(["orders", "users"], 40000, 7, state_every=500, pad=250)
    L.check(len(inp.data) > 3 * SIZE, "the input is too small")
    mnt = os.path.join(scratch, "mnt")
    os.makedirs(mnt)
    why = mount(mnt)
    if why:
        return f"cannot mount a tmpfs: {why}"
    try:
        line, n, left = on_full_fail(a, os.path.join(scratch, "fail"), mnt,
                                     inp)
        print(f"on_full: fail: {n} records durable, error: {line}")
        if left:
            print(f"note: tmp/ keeps {len(left)} file(s) of the failed put "
                  f"(removed by the next writer): {left}")
    finally:
        umount(mnt)
    why = mount(mnt)
    L.check(why is None, f"cannot mount the tmpfs again: {why}")
    try:
        moved, stalls, n, err = on_full_wait(a, os.path.join(scratch, "wait"),
                                             mnt, inp)
        warns = err.splitlines()
        print(f"on_full: wait: put stalled on the full disk {stalls} times; "
              f"finished after {moved} batches were moved out; {n} records "
              f"stored, all of them once; {len(warns)} lines on stderr" +
              (f", the first: {warns[0]}" if warns else ""))
    finally:
        umount(mnt)
    return None


if __name__ == "__main__":
    sys.exit(L.main(run))
