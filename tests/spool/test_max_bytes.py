#!/usr/bin/env python3
"""spool.max_bytes: the spool's own limit, with no full disk needed.

1. max_bytes 256KiB, on_full: fail, about 2 MB of input: 'dray put' exits
   non-zero with a one-line error; the batches in the spool stay within
   the limit; every visible batch is complete, the records are a
   per-stream prefix and the saved STATE claims only durable records.
2. The same with on_full: wait: put waits while this script, playing a
   loader, moves the oldest batch out whenever the spool is at its limit
   and nothing moves; put exits 0 and every record is stored exactly once
   (spool + moved batches), in order; the spool never held more than the
   limit at any poll.
"""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402

LIMIT = 256 * 1024
# The last batch admitted may overshoot by its footer and trailer (about
# 200 bytes): test_max_bytes_exact checks that edge on its own, so this
# test stays about the behaviour as a whole.
SLACK = 512


def run(a, scratch):
    inp = L.Input(["orders", "users"], 8000, 11, state_every=500, pad=150)

    folder = os.path.join(scratch, "fail")
    config = L.write_config(folder, batch={"max_records": 100},
                            spool_opts={"max_bytes": "256KiB",
                                        "on_full": "fail"})
    spool = os.path.join(folder, "spool")
    p = L.run_put(a, config, "shop", inp.data)
    L.check(p.returncode != 0, "dray put over spool.max_bytes with "
            "on_full: fail exited 0")
    line = L.one_line_error(p.stderr, "dray put over spool.max_bytes")
    used = L.spool_bytes(spool)
    L.check(used <= LIMIT + SLACK, f"the spool holds {used} bytes of "
            f"batches, more than max_bytes ({LIMIT})")
    rows = L.dump(a, spool)
    L.check(rows, "nothing reached the spool")
    L.check_records_match(rows, inp)
    L.check_prefix(rows, inp)
    L.check_state_durable(L.state(a, config, "shop"), inp, rows)
    print(f"on_full: fail: {len(rows)} records, {used} bytes durable; "
          f"error: {line}")

    folder = os.path.join(scratch, "wait")
    config = L.write_config(folder, batch={"max_records": 100},
                            spool_opts={"max_bytes": "256KiB",
                                        "on_full": "wait"})
    spool = os.path.join(folder, "spool")
    overflow = os.path.join(folder, "moved")
    peak = [0]

    def at_limit():
        used = L.spool_bytes(spool)
        peak[0] = max(peak[0], used)
        # Full when one more batch (about 100 records) would not fit.
        return used > LIMIT - 100 * 400

    rc, err, moved, stalls = L.put_with_mover(a, config, "shop", inp.data,
                                              spool, overflow, at_limit)
    L.check(rc == 0, f"dray put with on_full: wait exited {rc}; stderr:\n"
            f"{err}")
    L.check(moved > 0, "no batch had to be moved: the input fitted")
    L.check(peak[0] <= LIMIT + SLACK, f"the spool held {peak[0]} bytes, "
            f"more than max_bytes ({LIMIT})")
    rows = L.dump_merged(a, [spool, overflow])
    L.check_records_match(rows, inp)
    got = L.check_prefix(rows, inp)
    for s in inp.streams:
        L.check(got[s] == len(inp.ids[s]),
                f"stream {s}: {got[s]} of {len(inp.ids[s])} records stored")
    last = max(x for x in inp.states if x is not None)
    saved = L.state(a, config, "shop")
    L.check(saved == {"n": last}, f"saved STATE {saved}, expected n={last}")
    print(f"on_full: wait: put stalled at the limit {stalls} times; "
          f"finished after {moved} batches were moved out; peak {peak[0]} "
          f"bytes in the spool")
    return None


if __name__ == "__main__":
    sys.exit(L.main(run))
