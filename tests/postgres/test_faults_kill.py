#!/usr/bin/env python3
"""The PostgreSQL destination killed mid-load (helpers in faults_util.py):
every test ends by counting the rows in the tables and comparing a
checksum with what was put, so that nothing is lost and nothing is applied
twice.

- kill_loop: `dray run` (a daemon) killed over and over at random points,
  the whole process group or one worker in the middle of a transaction
  (found in pg_stat_activity), and some rounds with the parent stopped
  (SIGSTOP) while its workers commit, then killed: a batch committed and
  never acked, which the next run must find in the ledger. Two
  destinations on one server: `up` (upsert) and `ap` (append, where a
  batch applied twice would show as extra rows). The seed is printed;
  DRAY_KILL_SEED=N repeats a run's choices (the timing is the machine's).
- reoffer: batches loaded, then the spool put back as it was before the
  load (so they look unacked): the next run loads nothing again and says
  so.

A throwaway server comes from tests/fixtures/postgres.sh (exit 77, skip,
without one). usage: test_faults_kill.py DRAY PLUGIN_DIR  (ONLY=word runs
the tests whose name holds it)
"""
import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "runtime"))
from faults_util import (DEBUG, EARLIER, PG, busy_backends,  # noqa: E402
                         check_ledger, check_tables, drop_schemas, main,
                         no_raw_server_lines, pg_spool)
from pg_server import PSQL  # noqa: E402
from runtime_util import check, group_alive, wait_for, workers  # noqa: E402


# ---- where workers are in their transactions ----

def local_ports():
    """{socket inode: local port} of this machine's IPv4 TCP sockets."""
    out = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            out[parts[9]] = int(parts[1].split(":")[1], 16)
    return out


def worker_by_port(run_pid):
    """{client port: worker pid} of the run's workers' connections."""
    ports = local_ports()
    out = {}
    for pid in workers(run_pid):
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                port = ports.get(link[8:-1])
                if port:
                    out[port] = pid
    return out



def in_transaction():
    """dray's connections with a transaction open."""
    return PG.psql("SELECT pid FROM pg_stat_activity WHERE application_name "
                   "= 'dray' AND xact_start IS NOT NULL")


def ledger_waiters():
    """Client ports of dray's connections waiting for the lock on
    _dray.loads to write their ledger row: everything else of their batch
    is written, nothing committed."""
    return [int(x) for x in PG.psql(
        "SELECT client_port FROM pg_stat_activity WHERE application_name = "
        "'dray' AND wait_event_type = 'Lock' AND query LIKE "
        "'INSERT INTO _dray.loads%'")]


def ledger_batches(schemas):
    return set(tuple(x.split("|")) for x in PG.psql(
        "SELECT DISTINCT schema_name, batch_id FROM _dray.loads WHERE "
        "schema_name IN (%s)" % ", ".join("'%s'" % s for s in schemas)))


class LedgerLock:
    """A psql session that holds _dray.loads in EXCLUSIVE mode (reads go
    on, the ledger INSERT waits) until release()."""

    def __init__(self):
        e = PG.psql_env(PGOPTIONS="-c client_min_messages=warning")
        self.p = subprocess.Popen([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1"],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, text=True, env=e)
        self.p.stdin.write("BEGIN;\nLOCK TABLE _dray.loads IN EXCLUSIVE "
                           "MODE;\n")
        self.p.stdin.flush()
        held = wait_for(lambda: self.p.poll() is not None or PG.psql(
            "SELECT count(*) > 0 FROM pg_locks WHERE relation = "
            "'_dray.loads'::regclass AND mode = 'ExclusiveLock' AND "
            "granted") == ["t"], 30, step=0.02)
        check(held and self.p.poll() is None, "the ledger lock is held")

    def release(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write("COMMIT;\n")
                self.p.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    check(wait_for(lambda: group_alive(p.pid) == [], 30),
          "killed run %d: its processes died" % p.pid)


# ---- 1. kill points ----

KILLS = int(os.environ.get("DRAY_KILLS", "60"))
KILL_DESTS = {"up": ("upsert", "up_shop"), "ap": ("append", "ap_shop")}


def test_kill_loop():
    """Each round starts `dray run` (a daemon) in a process group of its
    own and SIGKILLs the group in the end. Before that, by the round's
    draw:
    - a worker is killed while its ledger INSERT waits for a lock the
      test holds on _dray.loads (its rows written, not committed);
    - the parent is stopped (SIGSTOP) while its workers wait there, then
      the lock is released: they commit, and no ack can follow;
    - a worker is killed while pg_stat_activity shows it in a statement
      of its transaction (a COPY when one is seen soon enough);
    - or nothing: the group dies after a random while (0 to 0.6 s).
    A round counts as a kill point when batches were still pending as the
    group died; when the spool is empty, more records are put."""
    seed = int(os.environ.get("DRAY_KILL_SEED") or time.time_ns() % 10**9)
    print("seed %d (DRAY_KILL_SEED=%d repeats the choices)" % (seed, seed),
          flush=True)
    rng = random.Random(seed)
    logs = []  # stderr of every run
    schema_dest = {v[1]: d for d, v in KILL_DESTS.items()}
    with pg_spool("pgkill", rng) as (s, data):
        drop_schemas(*schema_dest)
        s.config({d: (mode, {"dsn": PG.dsn(), "schema": "%s_{integration}"
                             % d}) for d, (mode, _) in KILL_DESTS.items()},
                 batch={"max_records": 250},
                 run={"concurrency": 2, "crash_limit": 100000,
                      "poll_interval": "50ms",
                      "retry": {"attempts": 1000, "initial": "10ms",
                                "max": "100ms"}})
        all_batches = set()

        def put_more():
            s.put_text(data.messages({
                "orders": data.make("orders", 2000, 1500),
                "users": data.make("users", 1500, 1000),
                "events": data.make("events", 1000, 800)}))
            all_batches.update(s.batches())

        put_more()
        check(len(all_batches) == 8 + 6 + 4, "batches put: %d"
              % len(all_batches))
        n = collections.Counter()
        unacked = set()  # (dest, batch) committed while the parent stopped
        ledger_exists = False
        kills = rounds = 0
        t0 = time.monotonic()
        while kills < KILLS and rounds < 4 * KILLS:
            errf = "run-%d.err" % rounds
            if not ledger_exists:
                ledger_exists = PG.psql("SELECT to_regclass('_dray.loads') "
                                        "IS NOT NULL") == ["t"]
            how = rng.random()
            lock = LedgerLock() if how < 0.35 and ledger_exists else None
            p = s.start(stderr_file=os.path.join(s.tmp, errf))
            t1 = time.monotonic()
            stopped = False
            try:
                if lock:
                    waiting = wait_for(lambda: ledger_waiters() or
                                       s.batches() == [], 30, step=0.01)
                    waiting = ledger_waiters() if waiting else []
                    by_port = worker_by_port(p.pid)
                    pids = [by_port[x] for x in waiting if x in by_port]
                    if pids and how < 0.12:
                        os.kill(rng.choice(pids), signal.SIGKILL)
                        n["worker killed before its ledger row"] += 1
                    elif pids:
                        os.kill(p.pid, signal.SIGSTOP)
                        stopped = True
                        before = ledger_batches(schema_dest)
                        lock.release()
                        # Every load the workers were given ends; the
                        # parent hears of none of them.
                        wait_for(lambda: not in_transaction(), 60,
                                 step=0.02)
                        grown = ledger_batches(schema_dest) - before
                        check(grown, "round %d: loads committed while the "
                              "parent was stopped" % kills)
                        unacked |= {(schema_dest[x], b) for x, b in grown}
                        n["parent stopped, commits unacked"] += 1
            finally:
                if lock:
                    lock.release()
            if 0.35 <= how < 0.55:
                v = wait_for(lambda: [x for x in busy_backends()
                                      if x[2].startswith("COPY")] or
                             s.batches() == [], 2, step=0.005)
                if not v:
                    v = wait_for(lambda: busy_backends() or
                                 s.batches() == [], 5, step=0.005)
                by_port = worker_by_port(p.pid)
                pids = [(by_port[x[0]], x[2])
                        for x in (v if isinstance(v, list) else [])
                        if x[0] in by_port]
                if pids:
                    pid, query = rng.choice(pids)
                    os.kill(pid, signal.SIGKILL)
                    n["worker killed in a statement"] += 1
                    n["... of them in a COPY"] += query.startswith("COPY")
            if not stopped:
                # A kill point, not a deadline: not scaled for slow builds.
                until = time.monotonic() + rng.uniform(0, 0.6)
                while time.monotonic() < until and s.batches() != []:
                    time.sleep(0.01)
            # A kill point only when there was work left to cut short.
            kills += s.batches() != []
            kill_group(p)
            rounds += 1
            logs.append(s.err_text(errf))
            if DEBUG:
                print("round %d: how %.2f, %.2f s, spool %d" % (
                    rounds, how, time.monotonic() - t1, len(s.batches())),
                    flush=True)
            if s.batches() == [] and kills < KILLS:
                n["more puts"] += 1
                put_more()
        print("%d kill points in %d rounds, %.1f s; %s"
              % (kills, rounds, time.monotonic() - t0, dict(n)), flush=True)
        check(kills >= KILLS, "%d kill points (%d wanted) in %d rounds"
              % (kills, KILLS, rounds))
        check(n["worker killed before its ledger row"] +
              n["worker killed in a statement"] >= 5,
              "workers killed in a transaction: %s" % dict(n))
        check(n["parent stopped, commits unacked"] >= 3,
              "rounds with commits never acked: %s" % dict(n))

        # Now let it finish.
        p = s.run(timeout=300)
        logs.append(p.stderr)
        check(p.returncode == 0, "final run: exit %d: %s"
              % (p.returncode, p.stderr[-2000:]))
        check(s.batches() == [], "no batch left in the spool: %d"
              % len(s.batches()))
        for d, (mode, schema) in KILL_DESTS.items():
            check(s.markers(d, "quarantined") == [],
                  "%s: nothing quarantined" % d)
            check_tables(schema, data, mode, "after %d kills" % kills)
            check_ledger(schema, data, mode, all_batches,
                         "after %d kills" % kills)
        said = set()
        for text in logs:
            said.update(EARLIER.findall(text))
            no_raw_server_lines(text, "kill loop")
        check(unacked and unacked <= said,
              "batches committed but not acked were found in the ledger by "
              "a later run: %d of %d; not: %s"
              % (len(unacked & said), len(unacked),
                 sorted(unacked - said)[:3]))
        print("%d loads found their batch in the ledger, %d of them made "
              "so by a stopped parent" % (len(said), len(unacked)),
              flush=True)


# ---- 1b. a batch offered again after its commit ----

def test_reoffer():
    dests = {"rup": ("upsert", "rup_shop"), "rap": ("append", "rap_shop")}
    with pg_spool("pgreoffer", random.Random(7)) as (s, data):
        drop_schemas(*[v[1] for v in dests.values()])
        s.config({d: (mode, {"dsn": PG.dsn(), "schema": schema})
                  for d, (mode, schema) in dests.items()},
                 batch={"max_records": 100})
        s.put_text(data.messages({"orders": data.make("orders", 300, 120),
                                  "users": data.make("users", 200, 90),
                                  "events": data.make("events", 150, 50)}))
        batches = s.batches()
        check(len(batches) == 3 + 2 + 2, "batches put: %d" % len(batches))
        copy = s.spool + ".before"
        shutil.copytree(s.spool, copy, symlinks=True)
        p = s.run()
        check(p.returncode == 0, "first run: exit %d: %s"
              % (p.returncode, p.stderr))
        check(s.batches() == [], "all acked")
        check(EARLIER.findall(p.stderr) == [],
              "the first run found nothing in the ledger: %s"
              % EARLIER.findall(p.stderr))
        snap = {}
        for d, (mode, schema) in dests.items():
            check_tables(schema, data, mode, "first load")
            check_ledger(schema, data, mode, batches, "first load")
            snap[schema] = PG.psql(
                "SELECT batch_id, table_name, rows, loaded_at FROM "
                "_dray.loads WHERE schema_name = '%s' ORDER BY 1, 2" % schema)

        # As if the loader had died after every commit, before any ack.
        shutil.rmtree(s.spool)
        os.rename(copy, s.spool)
        check(s.batches() == batches, "the batches are back, unacked")
        p = s.run()
        check(p.returncode == 0, "second run: exit %d: %s"
              % (p.returncode, p.stderr))
        said = set(EARLIER.findall(p.stderr))
        want = {(d, b) for d in dests for b in batches}
        check(said == want, "every batch was found in the ledger at every "
              "destination: missing %s" % sorted(want - said)[:3])
        check(s.batches() == [], "acked this time")
        for d, (mode, schema) in dests.items():
            check_tables(schema, data, mode, "offered again")
            check_ledger(schema, data, mode, batches, "offered again")
            check(PG.psql(
                "SELECT batch_id, table_name, rows, loaded_at FROM "
                "_dray.loads WHERE schema_name = '%s' ORDER BY 1, 2" % schema)
                == snap[schema], "%s: the ledger is as the first load left it"
                % schema)
        st = s.status()
        for d in st["destinations"]:
            check(d["pending"] == 0 and d["quarantined"] == 0,
                  "status of %s: %s" % (d["name"], d))
        no_raw_server_lines(p.stderr, "offered again")




if __name__ == "__main__":
    main([test_reoffer, test_kill_loop])
