#!/usr/bin/env python3
"""`dray run` over its life: SIGTERM with loads in flight or workers
still starting, running as a daemon, a plugin that prints on stdout,
failure counts kept across restarts, spool.keep_loaded, a damaged batch,
and a batch acked everywhere but left on disk.

Asserted, as in test_run.py: the files the echo plugin wrote, its
journal, the spool's markers, and `dray run`'s exit codes and messages.

usage: test_run_lifecycle.py DRAY PLUGIN_DIR   (ONLY=word runs those named)
"""
import os
import signal
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from runtime_util import (MR, SANITIZED, Spool, check, exit_code, gone,
                          records, run_tests, wait_for, workers)
from runtime_util import stop as stop_run


def test_sigterm():
    """SIGTERM lets the load in flight finish; a second signal, or the end
    of run.grace, stops it; nothing is lost."""
    s = Spool("term")
    try:
        # One load in flight finishes; the next is not started.
        s.config({"t": {"sleep_ms": 1500}}, max_records=MR,
                 run={"concurrency": 1})
        s.put("shop", {"orders": records("orders", 8)})
        first, second = s.batches()
        p = s.start()
        check(wait_for(lambda: s.starts("t", first), 30),
              "the first load started")
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=60)
        err = open(os.path.join(s.tmp, "run.err")).read()
        check(rc == 0, "run exit %d after SIGTERM: %s" % (rc, err))
        check([j[0] for j in s.journal("t")] == ["start", "commit"],
              "the load in flight finished, no other began: %s"
              % s.journal("t"))
        check(s.batches() == [second], "first acked and deleted, second "
              "pending: %s" % s.batches())
        check("stopping" in err, "says it is stopping: %s" % err)

        # A second signal stops at once; nothing is lost.
        s.config({"t": {"sleep_ms": 600000}}, max_records=MR,
                 run={"concurrency": 1, "grace": "10m"})
        p = s.start()
        check(wait_for(lambda: s.starts("t", second), 30),
              "the long load started")
        wpid = s.starts("t", second)[0][3]
        p.send_signal(signal.SIGTERM)
        check(wait_for(lambda: "stopping" in
                       open(os.path.join(s.tmp, "run.err")).read(), 30),
              "first signal seen")
        p.send_signal(signal.SIGINT)
        rc = exit_code(p, 30)
        check(rc == 0, "second signal: run exits 0: %s" % rc)
        check(wait_for(lambda: gone(wpid), 10), "the worker was killed")
        check(s.batches() == [second], "the batch stays pending")
        check(s.markers("t", "acked") == [], "not acked")

        # run.grace over: the load is killed, run exits 0.
        s.config({"t": {"sleep_ms": 600000}}, max_records=MR,
                 run={"concurrency": 1, "grace": "1s"})
        p = s.start()
        check(wait_for(lambda: len(s.starts("t", second)) == 2, 30),
              "the long load started again")
        wpid = s.starts("t", second)[-1][3]
        p.send_signal(signal.SIGTERM)
        rc = exit_code(p, 30)
        check(rc == 0, "grace over: exit 0: %s" % rc)
        check(wait_for(lambda: gone(wpid), 10), "the worker was killed")
        check(s.batches() == [second], "still pending")

        s.config({"t": {}}, max_records=MR)
        p = s.run()
        check(p.returncode == 0, "then loaded: %d %s" % (p.returncode,
                                                         p.stderr))
        s.check_exactly_once("t")
        check(s.batches() == [], "all loaded")
        check(s.loaded("t")[second][0]["attempt"] == 3,
              "killed loads counted as attempts")
        check(s.marker("t", "quarantined", second) is None,
              "a shutdown is not the batch's fault")
    finally:
        s.close()


def test_daemon():
    """Without --once: loads what is put while it runs, until SIGTERM;
    idle workers that die are replaced; no descriptor leaks."""
    s = Spool("daemon")
    try:
        s.config({"a": {}, "b": {}}, max_records=MR)
        p = s.start()
        fds = []

        def idle_fds():
            """Once idle: (no lease held, one socket per live worker), and
            the other descriptors (files, pipes) it has open."""
            links = []
            for fd in os.listdir("/proc/%d/fd" % p.pid):
                try:
                    links.append(os.readlink("/proc/%d/fd/%s" % (p.pid, fd)))
                except OSError:
                    pass
            socks = sum(1 for x in links if x.startswith("socket:"))
            leases = sum(1 for x in links if x.endswith(".lock"))
            others = len(links) - socks - leases
            return (leases == 0 and socks == len(workers(p.pid)), others)

        try:
            for k in range(4):
                s.put("shop", {"orders": records("orders", 9, start=100 * k),
                               "users": records("users", 2, start=100 * k)})
                check(wait_for(lambda: s.batches() == [], 30),
                      "round %d loaded and deleted: %s" % (k, s.batches()))
                check(wait_for(lambda: idle_fds()[0], 10),
                      "round %d: no lease kept, no socket without its "
                      "worker" % k)
                fds.append(idle_fds()[1])
                if k == 1:
                    # Idle workers die (an OOM kill, say): no batch's
                    # fault, and new ones take over.
                    for w in workers(p.pid):
                        os.kill(w, signal.SIGKILL)
                    check(wait_for(lambda: workers(p.pid) == [], 10),
                          "idle workers gone")
            check(p.poll() is None, "still running")
            check(fds[3] == fds[1], "no descriptors leak: %s" % fds)
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=30 * (4 if SANITIZED else 1))
        finally:
            stop_run(p)
        err = open(os.path.join(s.tmp, "run.err")).read()
        check(rc == 0, "exit %s after SIGTERM: %s" % (rc, err))
        s.check_exactly_once("a")
        s.check_exactly_once("b")
        check("a: 16 batches loaded (44 rows" in err and
              "worker death" not in err, "summary: %s" % err)
    finally:
        s.close()


def test_sigterm_while_starting():
    """A job whose worker is not ready yet has not begun: SIGTERM gives
    it back at once instead of waiting for the plugin (run.grace)."""
    s = Spool("termstart")
    try:
        s.config({"b": {"hang_when": "@create"}},
                 run={"grace": "10m", "batch_timeout": "10m"})
        s.put("shop", {"orders": records("orders", 3)})
        p = s.start()
        try:
            check(wait_for(lambda: workers(p.pid), 30),
                  "a worker is starting")
            p.send_signal(signal.SIGTERM)
            rc = exit_code(p, 20)
        finally:
            stop_run(p)
        err = open(os.path.join(s.tmp, "run.err")).read()
        check(rc == 0, "exit %s after SIGTERM, without waiting for the "
              "plugin: %s" % (rc, err))
        check("cannot start" not in err, "not a start failure: %s" % err)
        check(s.journal("b") == [], "nothing loaded")
        check(len(s.batches()) == 1, "the batch stays pending")
    finally:
        s.close()


def test_plugin_prints_on_stdout():
    """A plugin that prints to stdout must not garble what its worker
    tells dray run."""
    s = Spool("stdout")
    try:
        s.config({"a": {"verbose": True}}, max_records=MR)
        s.put("shop", {"orders": records("orders", 10)})
        p = s.run()
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        s.check_exactly_once("a")
        check(len(s.journal("a")) == 2 * 3, "each batch loaded once: %s"
              % s.journal("a"))
        check("unreadable" not in p.stderr and "unasked" not in p.stderr,
              "stderr: %s" % p.stderr)
        check(s.batches() == [], "all acked")
    finally:
        s.close()


def test_failures_survive_restart():
    """Retryable failures and worker deaths are counted in the spool: a
    loader killed and started again neither forgets them nor starts the
    counts over."""
    s = Spool("restart")
    try:
        s.config({"r": {"fail_mode": "retryable"}, "c": {"crash_when": "id"}},
                 run={"crash_limit": 3,
                      "retry": {"attempts": 3, "initial": "300ms",
                                "max": "300ms"}})
        s.put("shop", {"orders": records("orders", 2)})
        (bid,) = s.batches()
        for k in (1, 2):
            p = s.start("--once")
            check(wait_for(lambda: (s.marker("r", "failures", bid) or
                                    "").startswith("%d " % k) and
                           (s.marker("c", "failures", bid) or
                            "").startswith("0 %d " % k), 30),
                  "failure %d counted: %s / %s" %
                  (k, s.marker("r", "failures", bid),
                   s.marker("c", "failures", bid)))
            stop_run(p)  # SIGKILL, whole process group
        p = s.run()
        check(p.returncode == 4, "exit %d: %s" % (p.returncode, p.stderr))
        check(len(s.starts("r", bid)) == 3 and len(s.starts("c", bid)) == 3,
              "three tries in all at each: %s %s"
              % (s.starts("r", bid), s.starts("c", bid)))
        check("gave up after 3" in (s.reason("r", bid) or ""),
              "r: %s" % s.reason("r", bid))
        check("3 workers died" in (s.reason("c", bid) or ""),
              "c: %s" % s.reason("c", bid))
    finally:
        s.close()


def test_keep_loaded():
    """spool.keep_loaded keeps loaded batches, never loads them again, and
    deletes them once it has passed."""
    s = Spool("keep")
    try:
        s.config({"a": {}, "b": {}}, spool={"keep_loaded": "1h"},
                 max_records=MR)
        s.put("shop", {"orders": records("orders", 10)})
        before = s.batches()
        p = s.run()
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        s.check_exactly_once("a")
        s.check_exactly_once("b")
        check(s.batches() == before, "kept after loading")
        check(s.markers("a", "acked") == before and
              s.markers("b", "acked") == before, "acked everywhere")
        n = len(s.journal("a")) + len(s.journal("b"))
        p = s.run()
        check(p.returncode == 0, "second run: %d" % p.returncode)
        check(len(s.journal("a")) + len(s.journal("b")) == n,
              "kept batches are not loaded again")
        check(s.batches() == before, "still kept")

        # Once keep_loaded has passed, a run deletes them (--once too).
        s.config({"a": {}, "b": {}}, spool={"keep_loaded": "1s"},
                 max_records=MR)
        check(wait_for(lambda: s.run().returncode == 0 and
                       s.batches() == [], 10, step=0.2),
              "deleted after keep_loaded: %s" % s.batches())
        check(len(s.journal("a")) + len(s.journal("b")) == n,
              "and not loaded again")
    finally:
        s.close()


def test_damaged_holds_back():
    """A damaged batch (ends unreadable, or a bad checksum) is quarantined
    and holds back the rest of its stream."""
    s = Spool("damaged")
    try:
        s.config({"a": {}}, max_records=MR)
        s.put("shop", {"orders": records("orders", 12),
                       "users": records("users", 4)})
        p = s.run("--destination", "a")  # nothing special yet: warm-up
        check(p.returncode == 0, "first run: %s" % p.stderr)
        s.put("shop", {"orders": records("orders", 12, start=100)})
        o1, o2, o3 = s.batches()
        # The first new orders batch loses its end: it cannot be read.
        with open(s.batch_file(o1), "r+b") as f:
            f.truncate(os.path.getsize(s.batch_file(o1)) - 4)
        # A users batch keeps its ends but has a flipped byte inside: the
        # worker finds it by the checksum.
        s.put("shop", {"users": records("users", 8, start=100)})
        u1, u2 = [b for b in s.batches() if b not in (o1, o2, o3)]
        with open(s.batch_file(u1), "r+b") as f:
            f.seek(os.path.getsize(s.batch_file(u1)) // 2)
            c = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([c[0] ^ 0x01]))
        p = s.run()
        check(p.returncode == 4, "exit %d: %s" % (p.returncode, p.stderr))
        r = s.reason("a", o1)
        check(r is not None and "damaged" in r, "damaged reason: %s" % r)
        check(o2 not in s.loaded("a") and o3 not in s.loaded("a"),
              "later batches of its stream are held back")
        r = s.reason("a", u1)
        check(r is not None and "checksum" in r, "checksum reason: %s" % r)
        check(u2 not in s.loaded("a"), "and behind the other one too")
        check(s.batches() == sorted([o1, o2, o3, u1, u2]), "nothing deleted")
    finally:
        s.close()


def test_acked_everywhere_is_deleted():
    """A batch acked at every route whose file was left behind (a loader
    killed between its ack and the delete) is deleted by the next run."""
    s = Spool("retire")
    try:
        s.config({"a": {}, "b": {}})
        s.put("shop", {"orders": records("orders", 3)})
        (bid,) = s.batches()
        # A loader killed between its ack and the delete left both acks.
        for d in ("a", "b"):
            os.makedirs(os.path.join(s.spool, "dest", d, "acked"))
            open(os.path.join(s.spool, "dest", d, "acked", bid), "w").close()
        p = s.run()
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        check(s.journal("a") == [] and s.journal("b") == [],
              "not loaded again")
        check(s.batches() == [], "a batch acked everywhere is deleted: %s"
              % s.batches())
    finally:
        s.close()


TESTS = [test_sigterm, test_daemon, test_sigterm_while_starting,
         test_plugin_prints_on_stdout, test_failures_survive_restart,
         test_keep_loaded, test_damaged_holds_back,
         test_acked_everywhere_is_deleted]

if __name__ == "__main__":
    run_tests(TESTS)
