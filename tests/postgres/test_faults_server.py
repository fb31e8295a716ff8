#!/usr/bin/env python3
"""The PostgreSQL destination when the server fails it (helpers in
faults_util.py): every test ends by counting the rows in the tables and
comparing a checksum with what was put, so that nothing is lost and
nothing is applied twice.

- terminate: pg_terminate_backend on the worker's connection in the
  middle of a 200k-record load: retried, every row once.
- server_down: the server stopped, `dray run` keeps trying without
  quarantining and `dray status` shows the connection error; the server
  started again on the same port: everything loads, once.
- wrong_password: `dray run --once` exits 1 naming the fix, no batch
  quarantined; the password fixed: loaded.
- read_only: a user without CREATE: the batch is quarantined (E_CONFIG)
  with the fix in its reason, nothing written; after GRANT CREATE,
  `dray requeue --all` and a run load it.
- closed_port: the DSN names a port nobody listens on: exit 1 after the
  retries, the error in stderr and `dray status`, the batches pending.

A throwaway server comes from tests/fixtures/postgres.sh (exit 77, skip,
without one). usage: test_faults_server.py DRAY PLUGIN_DIR  (ONLY=word
runs the tests whose name holds it)
"""
import json
import os
import random
import re
import signal
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "runtime"))
from faults_util import (DEBUG, INTEG, PG, busy_backends,  # noqa: E402
                         check_ledger, check_tables, drop_schemas, main,
                         no_json_escapes, no_raw_server_lines, pg_spool)
from runtime_util import SLOW, check, exit_code, wait_for  # noqa: E402


# ---- 2. the server ends the connection mid-load ----

def test_terminate():
    with pg_spool("pgterm", random.Random(11)) as (s, data):
        drop_schemas("term_shop")
        s.config({"ap": ("append", {"dsn": PG.dsn(), "schema": "term_shop"})},
                 run={"concurrency": 1,
                      "retry": {"attempts": 5, "initial": "200ms",
                                "max": "1s"}})
        # Long enough a load for pg_stat_activity polls to catch it.
        pad = "\u00e9" + "x" * 80
        recs = [{"id": i, "name": "big-%d-%s" % (i, pad)}
                for i in range(200000)]
        s.put_text(data.messages({"users": recs}))
        (bid,) = s.batches()
        p = s.start("--once")
        done = []

        def terminate():
            if p.poll() is not None:
                return "ended"
            for port, pid, query in busy_backends():
                if not query.startswith(("COPY", "INSERT")):
                    continue  # not yet writing rows
                r = PG.psql("SELECT pg_terminate_backend(%d)" % pid)
                if r == ["t"]:
                    done.append(query)
                    return "terminated"
            return None

        how = wait_for(terminate, 120, step=0.005)
        check(how == "terminated", "a dray connection was terminated in "
              "the middle of a COPY or INSERT: %s" % how)
        print("terminated the connection running %r" % (done or [None])[0],
              flush=True)
        rc = exit_code(p, 300 * SLOW)
        err = s.err_text()
        if DEBUG:
            print(err)
        check(rc == 0, "the run ended with 0: %s: %s" % (rc, err[-2000:]))
        check(re.search(r"batch %s failed \(1 of 5\): E_RETRYABLE: " % bid,
                        err) and
              re.search(r"batch %s loaded: 200000 rows, 0 rejected \(attempt "
                        r"[2-5]\)" % bid, err),
              "the run says the load failed, was retried and loaded: %s"
              % err[-2000:])
        check(s.batches() == [], "the batch is acked")
        check(s.markers("ap", "quarantined") == [], "nothing quarantined")
        check_tables("term_shop", data, "append", "after the terminate")
        check_ledger("term_shop", data, "append", [bid], "after the terminate")
        no_raw_server_lines(err, "terminate")


# ---- 3. the server down for a while ----

class Outage:
    """The server stopped and started again by a test; should the test end
    in between, it is started again as the test's with block ends."""

    def __init__(self):
        self.down = False

    def stop(self):
        self.down = True
        return PG.stop_server()

    def start(self):
        ok = PG.start_server()
        self.down = False
        return ok

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.down:
            PG.start_server()


def test_server_down():
    dests = {"dup": ("upsert", "down_up"), "dap": ("append", "down_ap")}
    with pg_spool("pgdown", random.Random(13)) as (s, data), \
            Outage() as outage:
        drop_schemas(*[v[1] for v in dests.values()])
        s.config({d: (mode, {"dsn": PG.dsn(), "schema": schema,
                             "connect_timeout": "5s"})
                  for d, (mode, schema) in dests.items()},
                 batch={"max_records": 200},
                 run={"poll_interval": "100ms",
                      "retry": {"attempts": 3, "initial": "200ms",
                                "max": "1s"}})
        s.put_text(data.messages({"orders": data.make("orders", 500, 300),
                                  "events": data.make("events", 300, 100)}))
        batches = s.batches()
        check(outage.stop(), "server stopped")
        p = s.start()
        # It keeps trying: more start failures than retry.attempts, and
        # still nothing quarantined.
        fails = wait_for(lambda: s.err_text().count("cannot start") >= 8,
                         120)
        check(fails, "repeated start failures while the server is down: %s"
              % s.err_text()[-1500:])
        st = s.status()
        for d in st["destinations"]:
            check("connect" in (d["last_error"] or "") and
                  str(PG.port) in (d["last_error"] or ""),
                  "status of %s names the connection: %r"
                  % (d["name"], d["last_error"]))
            check(d["pending"] == len(batches) and d["quarantined"] == 0,
                  "status of %s: all %d pending, none quarantined: %s"
                  % (d["name"], len(batches), d))
            no_json_escapes(d["last_error"] or "", "server down: status")
        check(st["quarantined"] == [], "nothing quarantined")
        check(p.poll() is None, "dray run is still running")
        check(outage.start(), "server started again")
        loaded = wait_for(lambda: s.batches() == [], 120)
        check(loaded, "everything loaded once the server was back: %s"
              % s.batches())
        p.send_signal(signal.SIGTERM)
        rc = exit_code(p, 60 * SLOW)
        err = s.err_text()
        check(rc == 0, "exit after SIGTERM: %s: %s" % (rc, err[-1500:]))
        check("quarantine" not in err, "nothing quarantined: %s"
              % err[-1500:])
        for d, (mode, schema) in dests.items():
            check(s.markers(d, "quarantined") == [], "%s: no quarantine" % d)
            check_tables(schema, data, mode, "after the server was down")
            check_ledger(schema, data, mode, batches,
                         "after the server was down")
            check(s.dest_status(d).get("last_error") is None,
                  "%s: last_error cleared after loading: %r"
                  % (d, s.dest_status(d).get("last_error")))
        no_raw_server_lines(err, "server down")


# ---- 4. a wrong password ----

def hba_require_password(user):
    """pg_hba.conf: user must give a password over TCP; the server reloads
    it. Returns once a connection without a password is refused."""
    path = os.path.join(PG.dir, "data", "pg_hba.conf")
    with open(path) as f:
        text = f.read()
    line = "host all %s 127.0.0.1/32 scram-sha-256\n" % user
    if line not in text:
        with open(path, "w") as f:
            f.write(line + text)
    PG.psql("SELECT pg_reload_conf()")
    return wait_for(lambda: PG.psql_rc("SELECT 1", user=user)[0] != 0, 30,
                    step=0.05)


def test_wrong_password():
    good, bad = "pw-Right-42", "pw-Wr0ng-17"
    with pg_spool("pgpw", random.Random(17)) as (s, data):
        PG.psql("DROP DATABASE IF EXISTS faults_pw; DROP ROLE IF EXISTS "
                "dray_pw; CREATE ROLE dray_pw LOGIN PASSWORD '%s'" % good)
        PG.psql("CREATE DATABASE faults_pw OWNER dray_pw")
        check(hba_require_password("dray_pw"),
              "the server asks dray_pw for a password")
        check(PG.psql_rc("SELECT 1", user="dray_pw", db="faults_pw",
                         password=good)[0] == 0, "the right password works")

        def cfg(pw):
            s.config({"pw": ("upsert", {"dsn": PG.dsn("dray_pw", "faults_pw",
                                                      pw)})},
                     batch={"max_records": 100},
                     run={"retry": {"attempts": 3, "initial": "200ms",
                                    "max": "1s"}})
        cfg(bad)
        s.put_text(data.messages({"orders": data.make("orders", 250, 200),
                                  "users": data.make("users", 150, 100)}))
        batches = s.batches()
        p = s.run()
        check(p.returncode == 1, "wrong password: exit %d (want 1): %s"
              % (p.returncode, p.stderr))
        lines = [x for x in p.stderr.splitlines()
                 if "password authentication failed" in x]
        check(lines and all("check the user and password in the 'dsn' option"
                            in x for x in lines),
              "one line says what failed and how to fix it: %s" % p.stderr)
        check(bad not in p.stderr and good not in p.stderr,
              "the password is not in stderr")
        st = s.status()
        d = st["destinations"][0]
        check("password authentication failed" in (d["last_error"] or ""),
              "status shows the error: %r" % d["last_error"])
        no_json_escapes(p.stderr, "wrong password: stderr")
        no_json_escapes(d["last_error"] or "", "wrong password: status")
        check(bad not in json.dumps(st), "the password is not in status")
        check(d["pending"] == len(batches) and d["quarantined"] == 0,
              "the batches stay pending: %s" % d)
        check(s.markers("pw", "quarantined") == [], "nothing quarantined")
        check(s.batches() == batches, "the batches are in the spool")
        check(PG.psql("SELECT count(*) FROM pg_namespace WHERE nspname "
                      "NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', "
                      "'information_schema')", db="faults_pw") == ["0"],
              "nothing created in the database")
        no_raw_server_lines(p.stderr, "wrong password")

        cfg(good)
        p = s.run()
        check(p.returncode == 0, "right password: exit %d: %s"
              % (p.returncode, p.stderr))
        check(s.batches() == [], "loaded and acked")
        check_tables(INTEG, data, "upsert", "with the password fixed",
                     db="faults_pw")
        check_ledger(INTEG, data, "upsert", batches, "with the password fixed",
                     db="faults_pw")
        check(good not in p.stderr, "the password is not in stderr")


# ---- 5. a user that may not create ----

def test_read_only():
    with pg_spool("pgro", random.Random(19)) as (s, data):
        PG.psql("DROP DATABASE IF EXISTS faults_ro; DROP ROLE IF EXISTS "
                "dray_ro; CREATE ROLE dray_ro LOGIN")
        PG.psql("CREATE DATABASE faults_ro")
        PG.psql("REVOKE ALL ON DATABASE faults_ro FROM PUBLIC; "
                "GRANT CONNECT ON DATABASE faults_ro TO dray_ro")
        s.config({"ro": ("append", {"dsn": PG.dsn("dray_ro", "faults_ro")})},
                 batch={"max_records": 100})
        s.put_text(data.messages({"orders": data.make("orders", 250, 200),
                                  "events": data.make("events", 150, 100)}))
        batches = s.batches()
        firsts = sorted(b for b in batches if b.endswith("-000000000001"))
        p = s.run()
        check(p.returncode == 4, "no CREATE: exit %d (want 4): %s"
              % (p.returncode, p.stderr))
        q = s.markers("ro", "quarantined")
        check(q == firsts, "the first batch of each stream is quarantined, "
              "the rest held back: %s" % q)
        for b in q:
            why = s.reason("ro", b)
            check(why.startswith("E_CONFIG") and "permission denied" in why
                  and "grant the user CREATE" in why,
                  "the reason names the fix: %r" % why)
        d = s.dest_status("ro")
        check(d["quarantined"] == len(firsts) and
              d["pending"] == len(batches) - len(firsts),
              "status: %d quarantined, %d pending: %s"
              % (len(firsts), len(batches) - len(firsts), d))
        check(PG.psql("SELECT count(*) FROM pg_namespace WHERE nspname "
                      "NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', "
                      "'information_schema')", db="faults_ro") == ["0"],
              "no schema created")
        check(PG.psql("SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                      "ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
                      db="faults_ro") == ["0"], "no table created")
        no_raw_server_lines(p.stderr, "read-only user")

        PG.psql("GRANT CREATE ON DATABASE faults_ro TO dray_ro")
        r = s.dray("requeue", "--all", "-c", s.cfg)
        check(r.returncode == 0, "requeue: %d %s" % (r.returncode, r.stderr))
        p = s.run()
        check(p.returncode == 0, "after GRANT CREATE: exit %d: %s"
              % (p.returncode, p.stderr))
        check(s.batches() == [], "loaded and acked")
        check(s.markers("ro", "quarantined") == [], "nothing quarantined")
        check_tables(INTEG, data, "append", "after GRANT CREATE",
                     db="faults_ro")
        check_ledger(INTEG, data, "append", batches, "after GRANT CREATE",
                     db="faults_ro")


# ---- 6. nobody listening ----

def closed_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def test_closed_port():
    with pg_spool("pgclosed", random.Random(23)) as (s, data):
        port = closed_port()
        s.config({"nobody": ("upsert", {"dsn": "host=127.0.0.1 port=%d "
                                        "user=postgres dbname=postgres"
                                        % port})},
                 batch={"max_records": 100},
                 run={"retry": {"attempts": 3, "initial": "100ms",
                                "max": "300ms"}})
        s.put_text(data.messages({"users": data.make("users", 250, 200)}))
        batches = s.batches()
        p = s.run()
        check(p.returncode == 1, "exit %d (want 1): %s"
              % (p.returncode, p.stderr))
        fails = [x for x in p.stderr.splitlines()
                 if "cannot start" in x and "Connection refused" in x and
                 str(port) in x]
        check(len(fails) == 3, "tried run.retry.attempts (3) times, each "
              "failure logged with the connection error: %s" % p.stderr)
        d = s.dest_status("nobody")
        check("Connection refused" in (d.get("last_error") or ""),
              "status shows the error: %r" % d.get("last_error"))
        no_json_escapes(p.stderr, "closed port: stderr")
        no_json_escapes(d.get("last_error") or "", "closed port: status")
        check(d.get("pending") == len(batches) and d.get("quarantined") == 0,
              "the batches stay pending: %s" % d)
        check(s.batches() == batches, "the batches are in the spool")
        check(s.markers("nobody", "quarantined") == [], "nothing quarantined")


if __name__ == "__main__":
    main([test_closed_port, test_wrong_password, test_read_only,
          test_terminate, test_server_down])
