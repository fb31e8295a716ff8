"""Shared by the PostgreSQL fault tests (test_faults_kill.py,
test_faults_server.py): every test ends by counting the rows in the tables
and comparing a checksum with what was put, so that nothing is lost and
nothing is applied twice.

PG is the throwaway server (pg_server.py) the script's tests share; Data
makes seeded records and knows what the tables should hold; PgSpool is a
runtime_util Spool whose destinations are the postgres plugin; main()
starts the server, runs the tests and stops it.
"""
import collections
import contextlib
import json
import os
import re
import sys

from pg_server import SLOW, Server, serve
from runtime_util import Spool, check, run_tests, yaml

PLUGIN_DIR = sys.argv[2]
INTEG = "shop"

# The dray processes see info lines (the ledger's "loaded by an earlier
# attempt") and no libpq settings from the environment: every DSN is
# written out in full.
os.environ["DRAY_LOG_LEVEL"] = "info"
for _k in list(os.environ):
    if _k.startswith("PG"):
        del os.environ[_k]

EARLIER = re.compile(r"destination '(\w+)' \(postgres\): batch ([a-z0-9-]+) "
                     r"was loaded by an earlier attempt")


# ---- the server ----

class FaultServer(Server):
    """The throwaway server, and psql against it as the tests query it."""

    def psql_rc(self, sql, db="postgres", user="postgres", stdin_data=None,
                password=None):
        """(exit code, stdout lines, stderr) of psql -f - with sql."""
        e = self.psql_env(PGDATABASE=db, PGUSER=user,
                          PGOPTIONS="-c client_min_messages=warning",
                          PGCLIENTENCODING="UTF8", PGCONNECT_TIMEOUT="10")
        if password:
            e["PGPASSWORD"] = password
        rc, out, err = self.run_psql(["-X", "-q", "-A", "-t", "-w", "-F", "|",
                                      "-v", "ON_ERROR_STOP=1", "-f", "-"],
                                     sql + "\n" + (stdin_data or ""), e)
        return rc, out.splitlines(), err

    def psql(self, sql, **kw):
        rc, out, err = self.psql_rc(sql, **kw)
        if rc != 0:
            raise RuntimeError("psql failed (%d): %s\n  on: %s"
                               % (rc, err.strip(), sql))
        return out


PG = FaultServer("dray-pgfaults-")
DEBUG = bool(os.environ.get("DRAY_FAULTS_DEBUG"))


# ---- data: Singer messages and what they should become ----

ORDERS = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": ["null", "string"]},
    "tags": {"type": ["null", "array"], "items": {
        "type": "object", "properties": {"t": {"type": ["null", "string"]}}}}}}
FLAT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": ["null", "string"]}}}
STREAMS = {"orders": (["id"], ORDERS), "users": (["id"], FLAT),
           "events": ([], FLAT)}


class Data:
    """Records made by a seeded generator; keeps every record put, in put
    order, per stream."""

    def __init__(self, rng):
        self.rng = rng
        self.put = collections.defaultdict(list)
        self.version = 0

    def make(self, stream, n, keys):
        out = []
        for _ in range(n):
            self.version += 1
            i = self.rng.randrange(keys)
            r = {"id": i}
            if self.rng.random() < 0.9:  # else name is absent: NULL
                r["name"] = "%s-%d-v%d-\u00e9" % (stream, i, self.version)
            if stream == "orders":
                k = self.rng.random()
                if k < 0.1:
                    r["tags"] = None
                elif k < 0.9:
                    r["tags"] = [{"t": "t%d.%d" % (self.version, j)}
                                 for j in range(self.rng.randint(0, 3))]
            out.append(r)
        return out

    def messages(self, streams):
        """streams: {stream: [record]} -> Singer lines; remembered as put."""
        lines = []
        for s, recs in streams.items():
            keys, schema = STREAMS[s]
            lines.append({"type": "SCHEMA", "stream": s,
                          "key_properties": keys, "schema": schema})
            for r in recs:
                lines.append({"type": "RECORD", "stream": s, "record": r})
            self.put[s].extend(recs)
        return "".join(json.dumps(m) + "\n" for m in lines)

    def expected(self, mode):
        """{table: [row text]}: what the tables should hold, each row as
        the text the checksum query makes of it."""
        out = {}
        for s, recs in self.put.items():
            keyed = bool(STREAMS[s][0]) and mode == "upsert"
            if keyed:
                last = {}
                for r in recs:  # put order is sequence order
                    last[r["id"]] = r
                rows = list(last.values())
            else:
                rows = recs
            out[s] = [root_text(r) for r in rows]
            if s == "orders":
                out["orders__tags"] = [
                    "%d|%d|%s" % (r["id"], j, t["t"])
                    for r in rows for j, t in enumerate(r.get("tags") or [])]
        return out

    def ledger_rows(self):
        """{table: rows a batch reports}, summed over everything put."""
        out = collections.Counter()
        for s, recs in self.put.items():
            out[s] += len(recs)
            if s == "orders":
                out["orders__tags"] += sum(len(r.get("tags") or [])
                                           for r in recs)
        return {k: v for k, v in out.items() if v}


def root_text(r):
    name = r.get("name")
    return "%d|%s" % (r["id"], "~" if name is None else name)


ROW_SQL = {
    "orders__tags": "_sdc_source_key_id::text || '|' || "
                    "_sdc_level_0_id::text || '|' || coalesce(t, '~')",
}
ROOT_SQL = "id::text || '|' || coalesce(name, '~')"


def tables_of(schema, db="postgres"):
    return sorted(PG.psql("SELECT tablename FROM pg_tables WHERE schemaname "
                          "= '%s'" % schema, db=db))


def compare_table(schema, table, want, db="postgres"):
    """((count, checksum) of the table, the same of want, the table's rows
    as text), all computed by the server in one session: the expected
    rows are copied into a temporary table and go through the same
    sum(hashtext())."""
    expr = ROW_SQL.get(table, ROOT_SQL)
    q = '"%s"."%s"' % (schema, table)
    data = "".join(x + "\n" for x in want) + "\\.\n"
    out = PG.psql("CREATE TEMP TABLE e (s text); COPY e FROM STDIN;",
                  db=db, stdin_data=data +
                  "SELECT 'want', count(*), coalesce(sum(hashtext(s)), 0) "
                  "FROM e;\n"
                  "SELECT 'got', count(*), coalesce(sum(hashtext(%s)), 0) "
                  "FROM %s;\nSELECT 'row', %s FROM %s;\n"
                  % (expr, q, expr, q))
    sums, rows = {}, []
    for line in out:
        kind, rest = line.split("|", 1)
        if kind == "row":
            rows.append(rest)
        else:
            n, h = rest.split("|")
            sums[kind] = (int(n), int(h))
    return sums["got"], sums["want"], rows


def check_tables(schema, data, mode, what, db="postgres"):
    """The schema holds exactly the expected tables, and each exactly the
    expected rows: count and checksum as the server computes them, and
    the rows themselves."""
    expected = data.expected(mode)
    have = tables_of(schema, db=db)
    check(have == sorted(expected), "%s: tables of %s: %s, expected %s"
          % (what, schema, have, sorted(expected)))
    ok = True
    for table, want in sorted(expected.items()):
        if table not in have:
            ok = False
            continue
        got_sum, want_sum, got = compare_table(schema, table, want, db=db)
        g, w = collections.Counter(got), collections.Counter(want)
        missing = list((w - g).elements())
        extra = list((g - w).elements())
        ok &= check(got_sum == want_sum and not missing and not extra,
                    "%s: %s.%s: (count, checksum) %s, expected %s; "
                    "%d rows missing %s, %d extra %s"
                    % (what, schema, table, got_sum, want_sum, len(missing),
                       missing[:3], len(extra), extra[:3]))
    return ok


def check_ledger(schema, data, mode, batch_ids, what, db="postgres"):
    """_dray.loads has every batch put, no other, each with the stream's
    tables. Appending, the rows it reports add up to everything put (a
    batch counted twice would show); in upsert mode to at most that (a
    batch reports the rows of its winning records)."""
    rows = PG.psql("SELECT batch_id, table_name, rows FROM _dray.loads "
                   "WHERE schema_name = '%s'" % schema, db=db)
    got_ids = set()
    per_table = collections.Counter()
    for line in rows:
        b, t, n = line.split("|")
        got_ids.add(b)
        per_table[t] += int(n)
    check(got_ids == set(batch_ids),
          "%s: ledger of %s: %d batches, %d put; missing %s, unknown %s"
          % (what, schema, len(got_ids), len(batch_ids),
             sorted(set(batch_ids) - got_ids)[:2],
             sorted(got_ids - set(batch_ids))[:2]))
    put = data.ledger_rows()
    if mode == "append":
        check(dict(per_table) == put, "%s: ledger rows of %s per table %s, "
              "put %s" % (what, schema, dict(per_table), put))
    else:
        check(set(per_table) == set(put) and
              all(0 < per_table[t] <= put[t] for t in put),
              "%s: ledger rows of %s per table %s, at most %s"
              % (what, schema, dict(per_table), put))


# ---- a spool with postgres destinations ----

RUN = {"concurrency": 2, "poll_interval": "100ms", "grace": "5s",
       "batch_timeout": "%ds" % (120 * SLOW), "crash_limit": 3,
       "retry": {"attempts": 5, "initial": "50ms", "max": "500ms"}}


class PgSpool(Spool):
    def config(self, dests, run=None, batch=None):
        """dests: {name: (mode, options)}; run: settings over RUN's."""
        lines = ["spool: {path: ./spool}",
                 "plugin_path: [%s]" % json.dumps(PLUGIN_DIR)]
        lines += ["batch: %s" % yaml(batch)] if batch else []
        lines += ["run: %s" % yaml(dict(RUN, **(run or {}))), "destinations:"]
        lines += ["  - {name: %s, plugin: postgres, mode: %s, options: %s}"
                  % (name, mode, yaml(opts))
                  for name, (mode, opts) in dests.items()]
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")

    def dray(self, *args, **kw):
        p = super().dray(*args, **kw)
        no_sanitizer_report(p.stderr, "dray %s" % args[0])
        return p

    def close(self):
        for f in sorted(os.listdir(self.tmp)):
            if f.endswith(".err"):
                no_sanitizer_report(self.err_text(f), f)
        super().close()

    def put_text(self, text, integration=INTEG):
        p = self.dray("put", "-q", "-c", self.cfg, "--integration",
                      integration, stdin=text, timeout=300)
        check(p.returncode == 0, "put: exit %d: %s" % (p.returncode,
                                                       p.stderr))
        return p

    def status(self):
        p = self.dray("status", "--json", "-c", self.cfg)
        check(p.returncode == 0, "status: exit %d: %s" % (p.returncode,
                                                          p.stderr))
        try:
            return json.loads(p.stdout)
        except ValueError:
            check(False, "status --json is not JSON: %r" % p.stdout[:300])
            return {"destinations": [], "quarantined": []}

    def dest_status(self, name):
        for d in self.status()["destinations"]:
            if d["name"] == name:
                return d
        return {}

    def err_text(self, name="run.err"):
        try:
            with open(os.path.join(self.tmp, name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def no_sanitizer_report(text, what):
    """A sanitizer's report from dray or a worker (which would otherwise
    pass for one more crash that the run retried)."""
    i = text.find("Sanitizer")
    check(i < 0, "%s: a sanitizer report: %s" % (what, text[max(0, i - 200):
                                                         i + 1500]))


def no_json_escapes(text, what):
    """The server's message as it wrote it: a quote is a quote, not the
    \\" of the JSON it travelled in."""
    bad = [x for x in text.splitlines() if '\\"' in x or "\\t" in x]
    check(bad == [], "%s: JSON escapes left in the message: %s"
          % (what, bad[:2]))


def no_raw_server_lines(text, what):
    """Server notices reach the user through dray's log, never as libpq's
    bare 'WARNING:  ...' lines on stderr."""
    raw = [x for x in text.splitlines()
           if re.match(r"(WARNING|NOTICE|ERROR|FATAL):  ", x)]
    check(raw == [], "%s: bare server messages on stderr: %s"
          % (what, raw[:3]))


def drop_schemas(*names, db="postgres"):
    """Makes a test start from nothing when run again on one server."""
    sql = "".join('DROP SCHEMA IF EXISTS "%s" CASCADE;' % n for n in names)
    if PG.psql("SELECT to_regclass('_dray.loads') IS NOT NULL",
               db=db) == ["t"]:
        sql += ("DELETE FROM _dray.loads WHERE schema_name IN (%s);"
                % ", ".join("'%s'" % n for n in names))
    PG.psql(sql, db=db)


def busy_backends(db="postgres"):
    """[(client port, pid, query)] of dray's connections inside a
    transaction and running a statement."""
    rows = PG.psql("SELECT client_port, pid, left(query, 40) FROM "
                   "pg_stat_activity WHERE application_name = 'dray' AND "
                   "datname = '%s' AND xact_start IS NOT NULL AND "
                   "state = 'active'" % db)
    out = []
    for line in rows:
        port, pid, query = line.split("|", 2)
        out.append((int(port), int(pid), query))
    return out


@contextlib.contextmanager
def pg_spool(name, rng):
    """(a PgSpool, a Data drawing from rng) for one test; the spool is
    closed at its end."""
    s = PgSpool(name)
    try:
        yield s, Data(rng)
    finally:
        s.close()


def main(tests):
    """Runs the tests (ONLY=word: those whose name holds it) against a
    server of their own; exits 77 (skipped) without one."""
    sys.exit(serve(PG, lambda: run_tests(tests)))
