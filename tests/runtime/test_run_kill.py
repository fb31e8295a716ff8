#!/usr/bin/env python3
"""`dray run` killed at random points, over and over, until a run finally
gets to the end: no record is lost, none is loaded twice, no batch is left
behind, and no two loads of one batch ever overlap.

Each round starts `dray run --once` in a process group of its own, waits a
random while (for a random number of new lines in the echo plugin's
journals, or a random few milliseconds) and SIGKILLs the whole group; in
some rounds it first SIGKILLs just one worker in the middle of a load and
lets the run go on. The seed is printed; DRAY_KILL_SEED=N repeats a run's
choices (the timing is the machine's).

Then a parent killed on its own: its worker finishes the load it holds
the lease for, and a new run waits for it instead of loading the batch at
the same time.

usage: test_run_kill.py DRAY PLUGIN_DIR
"""
import os
import random
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from runtime_util import (Spool, attempts_grow, check, finish, gone,
                          group_alive, out_of_order, overlaps, records, stop,
                          wait_for, worker_of)

KILLS = 250  # kill points before the run is let finish
DESTS = ("a", "b")


def journal_len(s):
    return {d: len(s.journal(d)) for d in DESTS}


def open_loads(s, since):
    """Loads started since the lengths in since and not ended:
    [(dest, batch, pid)]."""
    out = []
    for d in DESTS:
        j = s.journal(d)[since[d]:]
        ended = {(b, p) for w, b, a, p in j if w != "start"}
        out += [(d, b, p) for w, b, a, p in j
                if w == "start" and (b, p) not in ended]
    return out


def test_kill_loop():
    seed = int(os.environ.get("DRAY_KILL_SEED") or time.time_ns() % 10**9)
    print("seed %d (DRAY_KILL_SEED=%d repeats the choices)" % (seed, seed),
          flush=True)
    rng = random.Random(seed)
    s = Spool("kill")
    try:
        s.config({d: {"sleep_ms": 3} for d in DESTS}, max_records=20,
                 run={"concurrency": 2, "crash_limit": 100000,
                      "poll_interval": "50ms",
                      "retry": {"attempts": 5, "initial": "10ms",
                                "max": "50ms"}})
        s.put("shop", {"orders": records("orders", 900),
                       "users": records("users", 500),
                       "items": records("items", 333)})
        s.put("crm", {"leads": records("leads", 700),
                      "notes": records("notes", 567)})
        all_batches = s.batches()
        check(len(all_batches) == 45 + 25 + 17 + 35 + 29,
              "batches put: %d" % len(all_batches))
        more = 0

        deaths = {d: {} for d in DESTS}  # pid -> journal length once dead
        log = []  # what the test did, shown when a check fails
        kills = mid_load = worker_kills = 0
        t0 = time.monotonic()
        while kills < KILLS:
            before = round_start = journal_len(s)
            p = s.start("--once")
            log.append("round %d: run %d at %s" % (kills, p.pid, before))
            how = rng.random()
            if how < 0.15:
                # One worker dies in the middle of a load; the run goes on.
                victim = wait_for(lambda: [o for o in open_loads(s, before)
                                           if worker_of(o[2], s.cfg)],
                                  10, step=0.001)
                if victim:
                    d, bid, pid = victim[-1]
                    # It dies after this point in its journal, and after
                    # any line it still wrote. (Measured once it is gone,
                    # the point would be late: the run may already have
                    # given its batch to another worker.)
                    at = len(s.journal(d))
                    os.kill(pid, signal.SIGKILL)
                    wait_for(lambda: gone(pid), 10)
                    j = s.journal(d)
                    deaths[d][pid] = max([at] + [i + 1 for i, x in
                                                 enumerate(j)
                                                 if x[3] == pid])
                    log.append("  killed worker %d (%s, %s); dead at %d"
                               % (pid, d, bid, deaths[d][pid]))
                    worker_kills += 1
                    before = journal_len(s)
            if rng.random() < 0.2:
                time.sleep(rng.uniform(0, 0.03))
            else:
                grow = rng.randint(1, 6)
                wait_for(lambda: p.poll() is not None or
                         sum(journal_len(s).values()) - sum(before.values())
                         >= grow, 10, step=0.001)
            if p.poll() is not None:
                # Got to the end before this round's kill point: more
                # work, so that every round can have one.
                check(p.returncode == 0, "run ended with %d: %s"
                      % (p.returncode,
                         open(os.path.join(s.tmp, "run.err")).read()))
                if p.returncode != 0:
                    break
                more += 1
                s.put("shop", {"orders": records("orders", 300,
                                                 start=1000 * more)})
                all_batches = sorted(set(all_batches) | set(s.batches()))
                continue
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            kills += 1
            # The whole group is dead before the journals are measured,
            # and nothing else writes to them: nothing a worker of this
            # round did can come later.
            check(wait_for(lambda: group_alive(p.pid) == [], 10),
                  "round %d: its processes died" % kills)
            for d in DESTS:
                pids = {x[3] for x in s.journal(d)[round_start[d]:]}
                n = len(s.journal(d))
                for pid in pids:
                    deaths[d].setdefault(pid, n)
                log.append("  killed all; %s: %s dead at %d"
                           % (d, sorted(pids), n))
            if [o for o in open_loads(s, round_start)
                    if o[2] not in deaths[o[0]] or
                    deaths[o[0]][o[2]] == len(s.journal(o[0]))]:
                mid_load += 1
        print("%d kills (%d mid-load), %d single worker kills, %d more puts "
              "in %.1f s" % (kills, mid_load, worker_kills, more,
                             time.monotonic() - t0), flush=True)
        check(kills >= 100, "at least 100 kill points: %d" % kills)
        check(mid_load >= kills // 3, "kills landed in loads: %d of %d"
              % (mid_load, kills))

        # Now let it finish.
        p = s.run(timeout=120)
        check(p.returncode == 0, "final run: exit %d: %s"
              % (p.returncode, p.stderr))
        check(s.batches() == [], "no batch left in the spool: %d"
              % len(s.batches()))
        for d in DESTS:
            s.check_exactly_once(d)
            check(sorted(s.loaded(d)) == all_batches,
                  "%s: every batch loaded, no other" % d)
            j = s.journal(d)
            bad = overlaps(j, deaths[d])
            if not check(bad == [], "%s: overlapping loads: %s"
                         % (d, bad[:3])):
                print("\n".join(log))
            bad = attempts_grow(j)
            check(bad == [], "%s: attempts: %s" % (d, bad[:3]))
            bad = out_of_order(j)
            check(bad == [], "%s: order: %s" % (d, bad[:3]))
            check(s.markers(d, "quarantined") == [],
                  "%s: nothing quarantined" % d)
            commits = {}
            for w, b, a, pid in j:
                if w == "commit":
                    commits[b] = commits.get(b, 0) + 1
            again = sum(1 for n in commits.values() if n > 1)
            print("%s: %d loads started, %d batches committed again after a "
                  "kill before their ack" % (d, sum(1 for x in j
                                                    if x[0] == "start"),
                                             again), flush=True)
    finally:
        s.close()


def test_parent_killed_alone():
    s = Spool("orphan")
    try:
        s.config({"a": {"sleep_ms": 1500}}, run={"concurrency": 1})
        s.put("shop", {"orders": records("orders", 10)})
        (bid,) = s.batches()
        p = s.start("--once")
        check(wait_for(lambda: s.starts("a", bid), 30), "load started")
        wpid = s.starts("a", bid)[0][3]
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        check(not gone(wpid), "the worker outlives its parent")
        # A new loader must not load the batch while the orphan does.
        q = s.run(timeout=60)
        check(q.returncode == 0, "second run: %d: %s" % (q.returncode,
                                                         q.stderr))
        j = s.journal("a")
        check([(x[0], x[2], x[3] == wpid) for x in j] ==
              [("start", 1, True), ("commit", 1, True),
               ("start", 2, False), ("commit", 2, False)],
              "the new run loaded it after the orphan's commit: %s" % j)
        check(overlaps(j) == [], "no overlap")
        s.check_exactly_once("a")
        check(s.batches() == [], "acked and deleted")
        check(wait_for(lambda: gone(wpid), 10), "the orphan ended")
        stop(p)
    finally:
        s.close()


if __name__ == "__main__":
    for t in (test_parent_killed_alone, test_kill_loop):
        t0 = time.monotonic()
        t()
        print("%s: %.1f s" % (t.__name__, time.monotonic() - t0), flush=True)
    finish()
