#!/usr/bin/env python3
"""`dray run` end to end: batches put into a real spool by `dray put`,
loaded by real worker processes through the echo test plugin, with its
faults (crash, hang, retryable and permanent failures), destinations that
are down, never ready or removed, and two loaders racing.

What is asserted is what a user sees: the files the plugin wrote (rows
delivered), its journal of load starts and ends, the spool's batches/
and dest/ markers, and `dray run`'s exit codes and messages.
test_run_lifecycle.py has the signals, restarts and retention.

usage: test_run.py DRAY PLUGIN_DIR   (ONLY=word runs the tests named so)
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from runtime_util import (MR, SANITIZED, Spool, check, gone,
                          out_of_order, overlaps, records, run_tests)


def max_in_flight(journal):
    """The most loads under way at once, by the journal."""
    n = most = 0
    for what, bid, attempt, pid in journal:
        n += 1 if what == "start" else -1
        most = max(most, n)
    return most


def test_basic():
    """Every record once per destination; --destination; deletion once
    every route acked."""
    s = Spool("basic")
    try:
        s.config({"a": {}, "b": {}}, max_records=MR)
        s.put("shop", {"orders": records("orders", 25),
                       "users": records("users", 10),
                       "items": records("items", 3)})
        s.put("crm", {"leads": records("leads", 9)})
        all_batches = s.batches()
        check(len(all_batches) == 7 + 3 + 1 + 3,
              "put made 14 batches: %d" % len(all_batches))

        # --destination a: only a loads; the files stay for b.
        p = s.run("--destination", "a")
        check(p.returncode == 0, "run a: exit %d: %s" % (p.returncode,
                                                         p.stderr))
        s.check_exactly_once("a")
        check(s.loaded("b") == {}, "b was not loaded")
        check(s.batches() == all_batches, "every batch kept for b")
        check(s.markers("a", "acked") == all_batches,
              "a acked every batch")
        check("a: 14 batches loaded (47 rows, 0 rejected)" in p.stderr,
              "summary: %s" % p.stderr)
        check(s.journal("b") == [], "b's plugin never ran")

        # Everything: b loads; a is not loaded again; files deleted.
        p = s.run()
        check(p.returncode == 0, "run: exit %d: %s" % (p.returncode,
                                                       p.stderr))
        s.check_exactly_once("a")
        s.check_exactly_once("b")
        check(len(s.journal("a")) == 2 * 14,
              "a loaded each batch once: %d lines" % len(s.journal("a")))
        check(s.batches() == [], "batches deleted once both acked: %s"
              % s.batches())
        check(s.markers("a", "acked") == [] and s.markers("b", "acked") == [],
              "markers deleted with the batches")
        for d in ("a", "b"):
            j = s.journal(d)
            check(overlaps(j) == [] and out_of_order(j) == [],
                  "%s: loads in order, one at a time per batch" % d)
            check(len({x[3] for x in j}) <= 2 * 2,
                  "%s: workers reused, run.concurrency (2) at a time: %s"
                  % (d, {x[3] for x in j}))
            check(max_in_flight(j) <= 2, "%s: at most run.concurrency "
                  "loads at once: %d" % (d, max_in_flight(j)))
            check(all(h["attempt"] == 1 for h, _ in s.loaded(d).values()),
                  "%s: every batch loaded on attempt 1" % d)
        # Nothing left: a run finds nothing to do.
        p = s.run()
        check(p.returncode == 0 and s.journal("a") and
              len(s.journal("a")) == 28, "idle run: %s" % p.stderr)

        # An unknown --destination is a usage error naming the known ones.
        p = s.run("--destination", "nope")
        check(p.returncode == 2 and "'nope'" in p.stderr and
              "'a', 'b'" in p.stderr, "unknown destination: %d %s"
              % (p.returncode, p.stderr))
    finally:
        s.close()


def test_crash():
    """A plugin that crashes on one batch: quarantined after
    run.crash_limit deaths, its stream held back there, everything else
    loads; requeued after the fix, it loads."""
    s = Spool("crash")
    try:
        s.config({"a": {}, "b": {"crash_when": "BOOM"}}, max_records=MR,
                 run={"crash_limit": 2})
        # orders: batches 1..4; the 6th record (batch 2) crashes b.
        s.put("shop", {"orders": records("orders", 16, mark={5: "BOOM"}),
                       "users": records("users", 8)})
        ob = s.batches()
        p = s.run()
        check(p.returncode == 4, "crash run: exit %d, expected 4: %s"
              % (p.returncode, p.stderr))
        s.check_exactly_once("a")
        la = s.loaded("a")
        orders = sorted(b for b, (h, _) in la.items()
                        if h["stream"] == "orders")
        users = sorted(b for b, (h, _) in la.items()
                       if h["stream"] == "users")
        check(len(orders) == 4 and len(users) == 2, "streams: %s" % ob)
        poison = orders[1]
        lb = s.loaded("b")
        check(sorted(lb) == sorted([orders[0]] + users),
              "b loaded the orders' first batch and every users batch, "
              "nothing after the poison batch: %s" % sorted(lb))
        starts = s.starts("b", poison)
        check(len(starts) == 2, "b's worker died exactly crash_limit (2) "
              "times on the poison batch: %s" % starts)
        check(not any(j[0] == "commit" and j[1] == poison
                      for j in s.journal("b")), "poison batch never committed")
        check(len({j[3] for j in starts}) == 2, "a new worker each time")
        check([j[2] for j in starts] == [1, 2], "attempts 1, 2: %s" % starts)
        r = s.reason("b", poison)
        check(r is not None and "signal 11" in r and "run.crash_limit" in r,
              "quarantine reason: %s" % r)
        check(s.markers("b", "quarantined") == [poison],
              "only the poison batch quarantined at b")
        check(s.markers("a", "quarantined") == [], "nothing quarantined at a")
        check(s.batches() == orders[1:],
              "the poison batch and those behind it stay in the spool: %s"
              % s.batches())
        check("quarantined" in p.stderr and poison in p.stderr and
              "signal 11" in p.stderr, "stderr says so: %s" % p.stderr)

        # Run again: nothing new is tried, still 4.
        p = s.run()
        check(p.returncode == 4, "second run with the quarantine: exit %d"
              % p.returncode)
        check(len(s.starts("b", poison)) == 2, "quarantined batch not tried")

        # The operator fixes the destination and requeues.
        s.config({"a": {}, "b": {}}, max_records=MR, run={"crash_limit": 2})
        p = s.dray("requeue", "-c", s.cfg, poison)
        check(p.returncode == 0, "requeue: %d %s" % (p.returncode, p.stderr))
        p = s.run()
        check(p.returncode == 0, "after requeue: exit %d: %s"
              % (p.returncode, p.stderr))
        s.check_exactly_once("a")
        s.check_exactly_once("b")
        check(s.batches() == [], "everything loaded and deleted")
        check(s.starts("b", poison)[-1][2] == 1,
              "a requeued batch starts its attempts over")
        j = s.journal("b")
        check(out_of_order(j) == [], "order: %s" % out_of_order(j))
    finally:
        s.close()


def test_hang():
    """A load that hangs is killed after run.batch_timeout, counted like
    a crash."""
    s = Spool("hang")
    try:
        s.config({"a": {}, "b": {"hang_when": "STUCK"}}, max_records=MR,
                 run={"batch_timeout": "%ds" % (1 if not SANITIZED else 3),
                      "crash_limit": 2})
        s.put("shop", {"orders": records("orders", 8, mark={1: "STUCK"}),
                       "users": records("users", 4)})
        p = s.run()
        check(p.returncode == 4, "hang run: exit %d: %s" % (p.returncode,
                                                            p.stderr))
        s.check_exactly_once("a")
        la = s.loaded("a")
        hung = min(b for b, (h, _) in la.items() if h["stream"] == "orders")
        r = s.reason("b", hung)
        check(r is not None and "run.batch_timeout" in r and
              "killed" in r, "reason: %s" % r)
        check(len(s.starts("b", hung)) == 2, "killed twice (crash_limit): %s"
              % s.starts("b", hung))
        lb = s.loaded("b")
        check([h["stream"] for h, _ in lb.values()] == ["users"],
              "b loaded the other stream only: %s" % lb.keys())
        for pid in {j[3] for j in s.starts("b", hung)}:
            check(gone(pid), "hung worker %d killed" % pid)
    finally:
        s.close()


def test_retryable_and_permanent():
    """Retryable failures back off and succeed, or give up after
    run.retry.attempts; permanent ones quarantine at once."""
    s = Spool("retry")
    try:
        s.config({"later": {"retry_first": 2},
                  "busy": {"fail_mode": "retryable"},
                  "refuses": {"fail_mode": "permanent"}},
                 run={"retry": {"attempts": 3, "initial": "50ms",
                                "max": "200ms"}})
        s.put("shop", {"orders": records("orders", 5)})
        (bid,) = s.batches()
        p = s.run()
        check(p.returncode == 4, "exit %d: %s" % (p.returncode, p.stderr))

        # Loads on its third attempt, after two retryable failures.
        check([(j[0], j[2]) for j in s.journal("later")] ==
              [("start", 1), ("fail", 1), ("start", 2), ("fail", 2),
               ("start", 3), ("commit", 3)],
              "later: attempts 1, 2, 3: %s" % s.journal("later"))
        s.check_exactly_once("later")
        check(s.loaded("later")[bid][0]["attempt"] == 3,
              "the plugin saw attempt 3")
        check(s.marker("later", "acked", bid) is not None,
              "acked at 'later'")

        # Gives up after run.retry.attempts.
        check([j[2] for j in s.starts("busy", bid)] == [1, 2, 3],
              "busy: three attempts: %s" % s.journal("busy"))
        r = s.reason("busy", bid)
        check(r is not None and "gave up after 3" in r and
              "destination is busy" in r, "busy reason: %s" % r)
        check(s.loaded("busy") == {}, "nothing written at busy")

        # Permanent: quarantined at once.
        check(len(s.starts("refuses", bid)) == 1,
              "refuses: one attempt: %s" % s.journal("refuses"))
        r = s.reason("refuses", bid)
        check(r is not None and "E_PERMANENT" in r and "refuses batch" in r,
              "permanent reason: %s" % r)
        check(s.batches() == [bid], "the batch stays for the quarantines")
        check("2 retried" in p.stderr, "summary counts retries: %s"
              % p.stderr)
    finally:
        s.close()


def test_destination_down():
    """A destination that cannot start (plugin missing, option invalid):
    --once exits 1 with one line each, its batches stay."""
    s = Spool("down")
    try:
        s.config({"a": {}, "b": ("nosuchplugin", {}),
                  "c": {"ratio": 5}}, max_records=MR,
                 run={"concurrency": 3})
        s.put("shop", {"orders": records("orders", 12),
                       "users": records("users", 12)})
        before = s.batches()
        p = s.run()
        check(p.returncode == 1, "exit %d, expected 1: %s"
              % (p.returncode, p.stderr))
        s.check_exactly_once("a")
        for d, what in (("b", "nosuchplugin"), ("c", "ratio")):
            errs = [ln for ln in p.stderr.splitlines()
                    if "error" in ln and "'%s'" % d in ln]
            check(len(errs) == 1 and what in errs[0],
                  "one error line for %s naming it: %s" % (d, errs))
            check(s.markers(d, "quarantined") == [] and
                  s.markers(d, "acked") == [], "%s: nothing marked" % d)
        check(s.batches() == before, "batches stay pending for b and c")
        check(s.journal("c") == [], "c never loaded")
    finally:
        s.close()


def test_destination_never_ready():
    """A plugin whose create() hangs (a connect without a timeout) must
    not hang dray run: the worker is killed after run.batch_timeout and
    counted as a start failure."""
    s = Spool("notready")
    try:
        s.config({"a": {}, "b": {"hang_when": "@create"}}, max_records=MR,
                 run={"batch_timeout": "%ds" % (1 if not SANITIZED else 3),
                      "retry": {"attempts": 2, "initial": "50ms",
                                "max": "200ms"}})
        s.put("shop", {"orders": records("orders", 8),
                       "users": records("users", 4)})
        before = s.batches()
        try:
            p = s.run(timeout=60)
        except Exception as e:  # subprocess.TimeoutExpired
            check(False, "dray run hung on a plugin that never got ready: "
                  "%s" % e)
            return
        check(p.returncode == 1, "exit %d, expected 1: %s"
              % (p.returncode, p.stderr))
        s.check_exactly_once("a")
        errs = [ln for ln in p.stderr.splitlines()
                if "error" in ln and "'b'" in ln]
        check(len(errs) == 2 and
              all("run.batch_timeout" in e for e in errs) and
              "stay in the spool" in errs[1],
              "an error naming b and the timeout for each of the two tries "
              "(run.retry.attempts): %s" % errs)
        check(s.batches() == before, "batches stay for b")
        check(s.markers("b", "quarantined") == [], "not the batches' fault")
    finally:
        s.close()


def test_destination_removed():
    """Batches routed to a destination the config lost are quarantined
    there, kept, and load once it is back and requeued."""
    s = Spool("removed")
    try:
        s.config({"a": {}, "b": {}})
        s.put("shop", {"orders": records("orders", 5)})
        (bid,) = s.batches()
        s.config({"a": {}})
        p = s.run()
        check(p.returncode == 4, "exit %d, expected 4 (quarantined): %s"
              % (p.returncode, p.stderr))
        s.check_exactly_once("a")
        r = s.reason("b", bid)
        check(r is not None and "'b'" in r and "config" in r,
              "quarantined at b, naming b and the config: %s" % r)
        check(s.batches() == [bid], "the batch file is kept for b")
        check("'b'" in p.stderr and bid in p.stderr, "said: %s" % p.stderr)
        # The destination comes back: requeue, run, done.
        s.config({"a": {}, "b": {}})
        p = s.dray("requeue", "-c", s.cfg, "--all")
        check(p.returncode == 0, "requeue: %s" % p.stderr)
        p = s.run()
        check(p.returncode == 0, "b back: exit %d: %s" % (p.returncode,
                                                          p.stderr))
        s.check_exactly_once("b")
        check(s.batches() == [], "loaded everywhere, deleted")
        check(len(s.journal("a")) == 2, "a loaded it once")
    finally:
        s.close()


def test_two_runs_race():
    """Two dray run on one spool: each batch loaded once per destination,
    never twice at the same time."""
    s = Spool("race")
    try:
        s.config({"a": {"sleep_ms": 20}, "b": {"sleep_ms": 20}},
                 max_records=MR, run={"concurrency": 4})
        s.put("shop", {"s%d" % i: records("s%d" % i, 14) for i in range(6)})
        n = len(s.batches())
        check(n == 24, "24 batches: %d" % n)
        ps = [s.start("--once", stderr_file=os.path.join(s.tmp, "r%d" % i))
              for i in range(2)]
        for p in ps:
            try:
                p.wait(timeout=60 * (4 if SANITIZED else 1))
            except Exception:
                pass
            check(p.returncode == 0, "racing run exit %s" % p.returncode)
        loaded = {"a": 0, "b": 0}
        for i in range(2):
            err = open(os.path.join(s.tmp, "r%d" % i)).read()
            for d in loaded:
                for ln in err.splitlines():
                    if ("dray run: %s: " % d) in ln:
                        loaded[d] += int(ln.split(": ")[2].split()[0])
        check(loaded == {"a": n, "b": n},
              "the two runs acked each batch once in all: %s" % loaded)
        for d in ("a", "b"):
            s.check_exactly_once(d)
            j = s.journal(d)
            check(overlaps(j) == [], "%s: overlapping loads: %s"
                  % (d, overlaps(j)[:3]))
            check(out_of_order(j) == [], "%s: order: %s"
                  % (d, out_of_order(j)[:3]))
            commits = [x for x in j if x[0] == "commit"]
            check(len(commits) == n, "%s: %d commits for %d batches"
                  % (d, len(commits), n))
            # Both loaders did work (the race really happened).
            pids = {x[3] for x in j}
            check(len(pids) >= 2, "%s: several workers: %s" % (d, pids))
        check(s.batches() == [], "all deleted")
    finally:
        s.close()


TESTS = [test_basic, test_crash, test_hang,
         test_retryable_and_permanent, test_destination_down,
         test_destination_never_ready, test_destination_removed,
         test_two_runs_race]

if __name__ == "__main__":
    run_tests(TESTS)
