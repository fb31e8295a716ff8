#!/usr/bin/env python3
"""Two 'dray put' processes write into one spool at the same time.

1. Different integrations ("alpha", "beta"), the same stream names in
   both, a STATE each: both exit 0; every record of each is present
   exactly once, in its integration and stream, unchanged and in its input
   order; batch ids are unique; each integration's saved STATE is its last.
2. The same integration and stream ("shop"/"orders") from both, disjoint
   ids: both exit 0; every record present exactly once; batch ids unique;
   in spool order the batch numbers, sequence ranges and creation times of
   the stream rise strictly (the stream's lock serialises the commits);
   each writer's records keep its input order.

Each part runs three rounds on a fresh spool, with small batches so that
commits of the two writers interleave. Both processes get their input fed
in chunks, alternately, so they run at the same time.
"""
import os
import subprocess
import sys
import threading

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402

ROUNDS = 3
RECORDS = 6000


def run_pair(a, config, jobs):
    """jobs: [(integration, bytes)]; runs the puts at once, returns their
    CompletedProcess-like (returncode, stderr)."""
    procs = []
    for integration, _ in jobs:
        procs.append(subprocess.Popen(
            L.put_cmd(a, config, integration), stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=L.clean_env()))
    errs = [b""] * len(procs)

    def drain(i):
        errs[i] = procs[i].stderr.read()

    readers = [threading.Thread(target=drain, args=(i,))
               for i in range(len(procs))]
    for t in readers:
        t.start()

    def feed(i):
        data = jobs[i][1]
        try:
            for at in range(0, len(data), 8192):
                procs[i].stdin.write(data[at:at + 8192])
                procs[i].stdin.flush()
            procs[i].stdin.close()
        except BrokenPipeError:
            pass

    feeders = [threading.Thread(target=feed, args=(i,))
               for i in range(len(procs))]
    for t in feeders:
        t.start()
    for t in feeders:
        t.join(120)
    out = []
    for i, p in enumerate(procs):
        try:
            rc = p.wait(120)
        except subprocess.TimeoutExpired:
            p.kill()
            raise L.Failure(f"dray put of {jobs[i][0]} did not finish")
        readers[i].join(10)
        out.append((rc, errs[i].decode(errors="replace")))
    for (integration, _), (rc, err) in zip(jobs, out):
        L.check(rc == 0, f"dray put --integration {integration} exited {rc}; "
                f"stderr:\n{err}")


def exactly_once(rows, inp, integration):
    mine = [r for r in rows if r["integration"] == integration]
    L.check_records_match(mine, inp)
    seen = {}
    for r in mine:
        seen[r["record"]["id"]] = seen.get(r["record"]["id"], 0) + 1
    twice = [i for i, n in seen.items() if n > 1]
    L.check(not twice, f"{integration}: {len(twice)} records stored more "
            f"than once (e.g. id {twice[:3]})")
    missing = [i for i in inp.records if i not in seen]
    L.check(not missing, f"{integration}: {len(missing)} records missing "
            f"(e.g. id {missing[:3]})")


def different_integrations(a, scratch, r):
    folder = os.path.join(scratch, "integrations%d" % r)
    config = L.write_config(folder, batch={"max_records": 97})
    spool = os.path.join(folder, "spool")
    inputs = {
        "alpha": L.Input(["orders", "users"], RECORDS, 100 + r,
                         state_every=1000),
        "beta": L.Input(["orders", "users"], RECORDS, 200 + r,
                        state_every=1000, id_base=10**6),
    }
    run_pair(a, config, [(k, v.data) for k, v in inputs.items()])
    rows = L.dump(a, spool)
    for name, inp in inputs.items():
        exactly_once(rows, inp, name)
        L.check_prefix(rows, inp, name)  # complete and in input order
        saved = L.state(a, config, name)
        L.check(saved == {"n": RECORDS},
                f"{name}: saved STATE {saved}, expected {{'n': {RECORDS}}}")
    batches = L.dump_batches(a, spool)
    L.check_unique_batches(batches)
    L.check_stream_order(batches)
    return len(batches)


def same_stream(a, scratch, r):
    folder = os.path.join(scratch, "stream%d" % r)
    config = L.write_config(folder, batch={"max_records": 53})
    spool = os.path.join(folder, "spool")
    inputs = [L.Input(["orders"], RECORDS, 300 + r),
              L.Input(["orders"], RECORDS, 400 + r, id_base=10**6)]
    run_pair(a, config, [("shop", inp.data) for inp in inputs])
    rows = L.dump(a, spool)
    ids = [row["record"]["id"] for row in rows]
    L.check(len(ids) == len(set(ids)),
            f"{len(ids) - len(set(ids))} records stored more than once")
    for w, inp in enumerate(inputs):
        mine = [row for row in rows if row["record"]["id"] in inp.records]
        L.check_records_match(mine, inp)
        got = [row["record"]["id"] for row in mine]
        L.check(got == inp.ids["orders"],
                f"writer {w}: {len(got)} of its {RECORDS} records in the "
                f"spool" + ("" if len(got) != RECORDS else
                            ", not in its input order"))
    L.check(len(ids) == 2 * RECORDS,
            f"{len(ids)} records in the spool, {2 * RECORDS} sent")
    batches = L.dump_batches(a, spool)
    L.check_unique_batches(batches)
    L.check_stream_order(batches)
    # Both writers' batches of one stream share one counter: numbers
    # 1..n with none taken twice.
    nums = sorted(int(b["batch"].rsplit("-", 1)[1]) for b in batches)
    L.check(nums == list(range(1, len(nums) + 1)),
            f"batch numbers of the shared stream are not 1..{len(nums)}: "
            f"{nums[:10]}...")
    seqs = sorted(row["seq"] for row in rows)
    L.check(len(seqs) == len(set(seqs)), "_sdc_sequence values repeat")
    # How often the writer changes from one batch to the next: how much
    # the commits interleaved (printed, not asserted: it is scheduling).
    owner = {}
    for row in rows:
        owner[row["batch"]] = row["record"]["id"] >= 10**6
    order = [owner[b["batch"]] for b in batches if b["batch"] in owner]
    switches = sum(1 for x, y in zip(order, order[1:]) if x != y)
    return len(batches), switches


def run(a, scratch):
    n1 = n2 = switches = 0
    for r in range(ROUNDS):
        n1 += different_integrations(a, scratch, r)
        n, s = same_stream(a, scratch, r)
        n2 += n
        switches += s
    print(f"two integrations at once: {ROUNDS} rounds, {n1} batches; "
          f"one stream from two writers: {ROUNDS} rounds, {n2} batches, "
          f"the writer changed {switches} times from one batch to the "
          f"next; every record exactly once, batch ids unique")
    return None


if __name__ == "__main__":
    sys.exit(L.main(run))
