#!/usr/bin/env python3
"""A spool 'dray put' may not write to.

A spool is made with one put. Then, as root, it is seen through a
read-only bind mount (root ignores file modes); as another user it is
made mode 0500. put into it exits non-zero with a one-line error naming
the spool, and the spool is unchanged: the same batches, the same
records, the same saved STATE (read through the read-only view, which
spool_dump and dray state can still read). A spool that does not exist
under a read-only folder is refused the same way. Mounts are undone on
every path.
"""
import os
import stat
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402


def refused(a, config, inp, spool, what):
    p = L.run_put(a, config, "shop", inp.data)
    L.check(p.returncode != 0, f"dray put into {what} exited 0")
    line = L.one_line_error(p.stderr, f"dray put into {what}")
    L.check(os.path.realpath(spool) in line or spool in line,
            f"the error does not name the spool '{spool}': {line}")
    return line


def run(a, scratch):
    inp = L.Input(["orders"], 500, 3, state_every=100)
    folder = os.path.join(scratch, "rw")
    config = L.write_config(folder, batch={"max_records": 100})
    spool = os.path.join(folder, "spool")
    L.put_ok(a, config, "shop", inp.data)
    before = L.dump(a, spool)
    L.check(len(before) == 500, f"{len(before)} records after the first put")
    files = L.batch_files(spool)
    more = L.Input(["orders"], 100, 4, id_base=1000)

    if os.geteuid() == 0:
        view = os.path.join(scratch, "ro")
        os.makedirs(view)
        p = subprocess.run(["mount", "--bind", spool, view],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return f"cannot bind-mount: {p.stderr.strip()}"
        try:
            p = subprocess.run(["mount", "-o", "remount,bind,ro", view],
                               capture_output=True, text=True)
            L.check(p.returncode == 0,
                    f"cannot remount read-only: {p.stderr.strip()}")
            ro_config = L.write_config(os.path.join(scratch, "use-ro"),
                                       spool=view,
                                       batch={"max_records": 100})
            line = refused(a, ro_config, more, view,
                           "a read-only bind mount of a spool")
            L.check(L.dump(a, view) == before,
                    "the spool changed behind the read-only mount")
            L.check(L.state(a, ro_config, "shop") == {"n": 500},
                    "dray state cannot read the STATE of a read-only spool")
            # A new spool under a read-only folder.
            sub = os.path.join(view, "batches", "new-spool")
            sub_config = L.write_config(os.path.join(scratch, "use-sub"),
                                        spool=sub)
            line2 = refused(a, sub_config, more, sub,
                            "a new spool in a read-only folder")
        finally:
            if subprocess.run(["umount", view]).returncode:
                subprocess.run(["umount", "-l", view])
        how = "read-only bind mount"
    else:
        os.chmod(spool, 0o500)
        try:
            line = refused(a, config, more, spool, "a spool of mode 0500")
            L.check(L.dump(a, spool) == before, "the spool changed")
            sub = os.path.join(spool, "new-spool")
            sub_config = L.write_config(os.path.join(scratch, "use-sub"),
                                        spool=sub)
            line2 = refused(a, sub_config, more, sub,
                            "a new spool in a folder of mode 0500")
        finally:
            os.chmod(spool, stat.S_IRWXU)
        how = "mode 0500"
    L.check(L.batch_files(spool) == files, "batch files changed")
    L.check(L.dump(a, spool) == before, "the records changed")
    print(f"{how}: {line}")
    print(f"new spool below it: {line2}")
    return None


if __name__ == "__main__":
    sys.exit(L.main(run))
