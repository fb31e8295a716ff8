#!/usr/bin/env python3
"""SIGKILL 'dray put' at many points, then check the spool and resume.

The input: two streams interleaved (SCHEMA first), 20,000 records with a
unique "id" each and {"type":"STATE","value":{"n":K}} after every 500
records; batch.max_records is 300. Each round uses a fresh spool (so every
round checks one kill on its own; a shared spool would only mix rounds):

1. Start 'dray put', feed its stdin in 16 KiB chunks and SIGKILL it after
   a number of chunks drawn from a seeded RNG (so the kill point depends
   on how much input put has been given, not on time). One round in ten
   closes stdin after the last chunk and kills at once, which lands in
   the final commits; put may also have finished by then.
2. Check with spool_dump: every visible batch is complete (checksum, end
   mark); every record is one of the input, unchanged, in its stream; per
   stream the records form a prefix of that stream's input (only the tail
   of batches not yet committed may be missing); batch ids are unique and
   sequence ranges rise; no batch has more than 300 records; the saved
   STATE (dray state) claims nothing that is not durable: every record
   sent before that STATE is present.
3. Resume as a Singer tap does: send the SCHEMA messages again and every
   line after the saved STATE (everything when none was saved). Then every
   record of the input is present; per stream the spool holds exactly the
   records present before plus those re-sent, in order, so duplicates are
   only records after the saved STATE (counted and printed); the saved
   STATE is the last one sent; tmp/ holds nothing.

Options: --rounds N (default 100), --seed S, --records N.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402

CHUNK = 16 * 1024


def extra(ap):
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--records", type=int, default=20000)


def alarm(signum, frame):
    raise L.Failure("a round took more than 60 s (dray put hangs?)")


def kill_round(a, inp, folder, rng, stats):
    config = L.write_config(folder, batch={"max_records": 300})
    spool = os.path.join(folder, "spool")
    total = (len(inp.data) + CHUNK - 1) // CHUNK
    close_then_kill = rng.random() < 0.1
    chunks = total if close_then_kill else rng.randint(0, total - 1)
    err_path = os.path.join(folder, "put.stderr")

    with open(err_path, "wb") as err:
        p = subprocess.Popen(L.put_cmd(a, config, "shop"),
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=err, env=L.clean_env())
    fd = p.stdin.fileno()
    early = False
    try:
        for i in range(chunks):
            os.write(fd, inp.data[i * CHUNK:(i + 1) * CHUNK])
        if close_then_kill:
            p.stdin.close()
    except BrokenPipeError:
        early = True
    p.send_signal(signal.SIGKILL)
    rc = p.wait()
    if not p.stdin.closed:
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
    with open(err_path, "rb") as f:
        stderr = f.read().decode(errors="replace")
    # Killed, or finished on its own once all input was sent; never an
    # exit of its own before that.
    L.check(not early and (rc == -signal.SIGKILL or
                           (rc == 0 and close_then_kill)),
            f"dray put ended by itself with status {rc} after "
            f"{chunks} chunks of input; stderr:\n{stderr}")
    if rc == 0:
        stats["finished"] += 1

    # What the kill left.
    rows = L.dump(a, spool) if os.path.exists(spool) else []
    L.check_records_match(rows, inp)
    present = L.check_prefix(rows, inp)
    batches = L.dump_batches(a, spool) if os.path.exists(spool) else []
    L.check_unique_batches(batches)
    L.check_stream_order(batches)
    for b in batches:
        L.check(b["records"] <= 300,
                f"batch {b['batch']} has {b['records']} records; "
                f"batch.max_records is 300")
    saved = L.state(a, config, "shop") if os.path.exists(spool) else None
    line = L.check_state_durable(saved, inp, rows)
    stats["durable"] += len(rows)
    stats["states"] += saved is not None
    stats["batches"] += len(batches)

    # Resume from the saved STATE.
    data = inp.data if line is None else inp.resume_data(line)
    L.put_ok(a, config, "shop", data, "the resumed dray put")
    after = L.dump(a, spool)
    L.check_records_match(after, inp)
    got = L.ids_by_stream(after)
    first = 0 if line is None else line + 1
    dup_ids = []
    for s in inp.streams:
        again = [r[1] for r in inp.recs[first:] if r and r[0] == s]
        want = inp.ids[s][:present[s]] + again
        L.check(got.get(s, []) == want,
                f"stream {s} after resuming from STATE {saved}: expected "
                f"the {present[s]} records present before the resume, then "
                f"the {len(again)} re-sent ones; got {len(got.get(s, []))} "
                f"records")
        resent = set(again)
        dup_ids += [i for i in inp.ids[s][:present[s]] if i in resent]
        L.check(set(got.get(s, [])) == set(inp.ids[s]),
                f"stream {s}: records lost after the resume")
    k = 0 if saved is None else saved["n"]
    L.check(all(i >= k for i in dup_ids),
            f"a record before the saved STATE {saved} is stored twice")
    stats["dups"] += len(dup_ids)
    last = max(x for x in inp.states if x is not None)
    final = L.state(a, config, "shop")
    L.check(final == {"n": last},
            f"after the resume the saved STATE is {final}, expected "
            f"{{'n': {last}}}")
    left = os.listdir(os.path.join(spool, "tmp"))
    L.check(not left, f"tmp/ still holds {left} after the resumed put "
            f"(files of dead writers are swept when a writer opens the "
            f"spool)")
    L.check_unique_batches(L.dump_batches(a, spool))


def run(a, scratch):
    inp = L.Input(["orders", "users"], a.records, a.seed, state_every=500,
                  weights=[3, 2], pad=20)
    rng = random.Random(a.seed)
    stats = dict.fromkeys(["finished", "durable", "states", "batches",
                           "dups"], 0)
    signal.signal(signal.SIGALRM, alarm)
    started = time.monotonic()
    for r in range(a.rounds):
        folder = os.path.join(scratch, "r%03d" % r)
        signal.alarm(60)
        try:
            kill_round(a, inp, folder, rng, stats)
        except L.Failure as e:
            raise L.Failure(f"round {r} (seed {a.seed}): {e}")
        finally:
            signal.alarm(0)
        if not a.keep:
            shutil.rmtree(folder, ignore_errors=True)
    n = a.rounds
    print(f"{n} kills of dray put on {len(inp.data)} bytes of input "
          f"({a.records} records, 2 streams) in "
          f"{time.monotonic() - started:.1f} s; {stats['finished']} finished "
          f"before the kill; on average {stats['durable'] / n:.0f} records "
          f"in {stats['batches'] / n:.1f} batches were durable at the kill; "
          f"{stats['states']} rounds had a saved STATE; the resumes "
          f"re-sent {stats['dups']} records already durable (duplicates "
          f"after the saved STATE, as a resumed tap re-sends them)")
    return None


if __name__ == "__main__":
    sys.exit(L.main(run, extra, memory=True))
