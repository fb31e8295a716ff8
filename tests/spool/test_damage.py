#!/usr/bin/env python3
"""Damaged batches are reported, never read as data, and never stop the
other batches or the writer.

After one put (5 batches), batches are damaged in the ways a disk or a
person can: a flipped byte in the records (checksum mismatch), a file cut
short (no end mark), a stray non-batch file named *.batch, and a batch
whose file name does not match the id in its footer (a copy under another
name). spool_dump prints one stderr line per damaged batch naming it and
why, exits 1, and still prints every record of the intact batches. A tmp/
file (a batch being written) is never read. 'dray put' keeps writing into
the spool (it does not read batches), and its new batches are intact.
"""
import os
import shutil
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402


def run(a, scratch):
    inp = L.Input(["orders"], 500, 5, state_every=100)
    config = L.write_config(scratch, batch={"max_records": 100})
    spool = os.path.join(scratch, "spool")
    L.put_ok(a, config, "shop", inp.data)
    files = L.batch_files(spool)
    L.check(len(files) == 5, f"{len(files)} batches, expected 5")
    rows = L.dump(a, spool)
    by_batch = {}
    for r in rows:
        by_batch.setdefault(r["batch"] + ".batch", []).append(r)
    path = [os.path.join(spool, "batches", f) for f in files]

    with open(path[1], "r+b") as f:  # one byte in the records
        f.seek(os.path.getsize(path[1]) // 2)
        c = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([c[0] ^ 0x20]))
    with open(path[3], "r+b") as f:  # cut short
        f.truncate(os.path.getsize(path[3]) - 5)
    stray = os.path.join(spool, "batches", "zz-not-a-batch.batch")
    with open(stray, "wb") as f:
        f.write(b"hello, I am not a batch\n" * 3)
    renamed = os.path.join(spool, "batches", "zz-renamed.batch")
    shutil.copyfile(path[4], renamed)
    with open(os.path.join(spool, "tmp", "1-1.tmp"), "wb") as f:
        f.write(open(path[0], "rb").read()[:100])

    got, err, rc = L.dump(a, spool, allow_damage=True)
    L.check(rc == 1, f"spool_dump exited {rc} on a damaged spool, expected 1")
    L.check(len(err) == 4, f"expected 4 error lines, got:\n" + "\n".join(err))
    want = {path[1]: "checksum mismatch", path[3]: "no end mark",
            stray: "is damaged", renamed: "is damaged"}
    for file, why in want.items():
        hit = [e for e in err if file in e]
        L.check(len(hit) == 1 and why in hit[0],
                f"no error line naming {file} with '{why}':\n" +
                "\n".join(err))
    intact = by_batch[files[0]] + by_batch[files[2]] + by_batch[files[4]]
    L.check(got == intact,
            f"spool_dump printed {len(got)} records, expected the "
            f"{len(intact)} of the intact batches")

    # The writer is not disturbed by damage it never reads.
    more = L.Input(["orders"], 150, 6, id_base=10000)
    L.put_ok(a, config, "shop", more.data, "dray put into a damaged spool")
    got, err, rc = L.dump(a, spool, allow_damage=True)
    L.check(len(err) == 4, "new damage after the second put:\n" +
            "\n".join(err))
    new = [r["record"]["id"] for r in got if r["record"]["id"] >= 10000]
    L.check(new == more.ids["orders"],
            f"the second put stored {len(new)} of 150 records")
    print("damage reported:")
    for e in err:
        print("  " + e)
    return None


if __name__ == "__main__":
    sys.exit(L.main(run))
