#!/usr/bin/env python3
"""spool.max_bytes holds to the byte: a batch is admitted only when its
whole file (records, footer, checksum, end mark) fits.

One put writes a one-record batch of S bytes. With max_bytes set to S +
(that batch without its footer and trailer) + 10, that is less than two
such batches, a second put of the same record with on_full: fail must
refuse to commit it, leaving the spool at S bytes, and exit non-zero
with one line.
"""
import os
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402

INPUT = ("\n".join([L.schema_line("s"),
                    L.record_line("s", {"id": 1, "name": "a", "v": 1})]) +
         "\n").encode()


def run(a, scratch):
    config = L.write_config(scratch)
    spool = os.path.join(scratch, "spool")
    L.put_ok(a, config, "shop", INPUT)
    first = os.path.join(spool, "batches", L.batch_files(spool)[0])
    with open(first, "rb") as f:
        data = f.read()
    size = len(data)
    footer = struct.unpack("<I", data[-16:-12])[0]
    body = size - footer - 16  # what the writer counts before committing
    limit = size + body + 10
    L.check(limit < 2 * size, "the footer is too small for this test")

    config = L.write_config(scratch, spool_opts={"max_bytes": limit,
                                                 "on_full": "fail"})
    p = L.run_put(a, config, "shop", INPUT)
    used = L.spool_bytes(spool)
    L.check(used <= limit,
            f"spool.max_bytes is {limit}, but a second batch was admitted: "
            f"the spool holds {used} bytes (put exited {p.returncode}); "
            f"the limit was checked against {body} bytes of the batch, "
            f"without its {footer}-byte footer and 16-byte trailer")
    L.check(p.returncode != 0, "put exited 0 without storing the record")
    line = L.one_line_error(p.stderr, "dray put over spool.max_bytes")
    print(f"a batch of {size} bytes over a limit of {limit}: {line}")
    return None


if __name__ == "__main__":
    sys.exit(L.main(run))
