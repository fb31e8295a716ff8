#!/usr/bin/env python3
"""Runs the PostgreSQL destination's semantic cases (tests/postgres/cases).

    run_cases.py DRAY PLUGIN_DIR CASES_DIR

Starts a throwaway PostgreSQL server (tests/fixtures/postgres.sh), then for
each case (CASES=glob picks some by file name, e.g. CASES='02*'): a fresh
folder with a dray config whose one destination `pg` is the postgres
plugin, the case's steps in order (dray put, dray run --once, SQL), and
its checks with psql. Prints `ok NAME` or `FAIL NAME` with what differed,
then a summary; exits 1 on a failure, 77 (skipped) when there is no
PostgreSQL server or psql. The case format is in README.md beside this
file. The server is stopped at exit, failures and signals included.
"""
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "runtime"))
import checks  # noqa: E402
from pg_server import SLOW, Server, serve, tail  # noqa: E402

INTEGRATION = "shop"
NULL_TEXT = "(null)"
STEPS = {"input", "run", "sql", "query", "rejects", "spool-sequence",
         "stderr-contains", "forget-acks"}
HEAD = {"mode", "config", "dest-options", "spool-options", "integration",
        "schema"}


class CaseError(Exception):
    """A case file that cannot be run as written."""


class StepFailed(Exception):
    """A check that failed; the message says what differed."""


# ---- the case file ----

def attrs(text):
    """'exit=1 run=no' -> {'exit': '1', 'run': 'no'}."""
    out = {}
    for word in (text or "").split():
        if "=" not in word:
            raise CaseError("section argument %r is not key=value" % word)
        k, v = word.split("=", 1)
        out[k] = v
    return out


def parse(path):
    """Returns (description, [(section, argument text, [lines])])."""
    desc, sections, cur = [], [], None
    with open(path, encoding="utf-8", newline="\n") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            m = re.fullmatch(r"\[([a-z-]+)(?:\s+(.*?))?\]\s*", line)
            if m:
                name = m.group(1)
                if name not in STEPS | HEAD | {"expect"}:
                    raise CaseError("%s:%d: unknown section [%s]"
                                    % (path, n, name))
                cur = (name, m.group(2) or "", [])
                sections.append(cur)
            elif cur is None:
                if line.startswith("#"):
                    desc.append(line.lstrip("#").strip())
                elif line.strip():
                    raise CaseError("%s:%d: text before the first section"
                                    % (path, n))
            else:
                cur[2].append(line)
    for _, _, lines in sections:
        while lines and not lines[-1].strip():
            lines.pop()
    return " ".join(d for d in desc if d), sections


# ---- inputs: lines of Singer JSON, with @REPEAT(text,count)@ ----

REPEAT = re.compile(r"@REPEAT\(([^,()]*),(\d+)\)@")
FIELDS = re.compile(r"@FIELDS\(([^,()]*),(\d+)\)@")


def expand(line):
    """@REPEAT(x,20000000)@ becomes x written 20000000 times: a big record
    named in the case rather than stored in it. @FIELDS(f,3)@ becomes the
    members "f0":0,"f1":1,"f2":2 (a wide record)."""
    line = REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), line)
    return FIELDS.sub(lambda m: ",".join(
        '"%s%d":%d' % (m.group(1), i, i) for i in range(int(m.group(2)))),
        line)


LINES = re.compile(r"^@LINES (\d+) (\d+) (.*)$")


def input_lines(lines):
    """Also "@LINES FIRST LAST TEMPLATE": the template once per number
    from FIRST to LAST, {i} replaced by it (many records, named)."""
    out = []
    for x in lines:
        if not x.strip() or x.lstrip().startswith("#"):
            continue
        m = LINES.match(x.strip())
        if m:
            out.extend(m.group(3).replace("{i}", str(i))
                       for i in range(int(m.group(1)), int(m.group(2)) + 1))
        else:
            out.append(expand(x))
    return out


# ---- processes ----

def env_for_dray():
    e = dict(os.environ)
    e.pop("DRAY_CONFIG", None)
    return e


def run_cmd(argv, timeout, **kw):
    """Runs argv in a session of its own; past the timeout its process
    group (workers too) is killed and a StepFailed raised."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True, **kw)
    try:
        out, err = p.communicate(timeout=timeout * SLOW)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        p.communicate()
        raise StepFailed("%s: still running after %d s, killed"
                         % (" ".join(argv[:3]), timeout * SLOW))
    return p.returncode, out.decode("utf-8", "replace"), \
        err.decode("utf-8", "replace")


class CaseServer(Server):
    """The throwaway server, and psql against it as the cases query it."""

    def psql(self, sql, schema):
        """Runs sql with the case's schema first on the search path, UTC,
        ISO dates; returns the output lines (unaligned, tuples only, '|'
        between columns, NULL as (null))."""
        e = self.psql_env(
            PGOPTIONS="-c search_path=%s,public -c TimeZone=UTC "
                      "-c DateStyle=ISO,YMD -c client_min_messages=warning"
                      % schema, PGCLIENTENCODING="UTF8")
        try:
            rc, out, err = self.run_psql(
                ["-X", "-q", "-A", "-t", "-F", "|", "-P", "null=" + NULL_TEXT,
                 "-v", "ON_ERROR_STOP=1", "-f", "-"], sql, e)
        except subprocess.TimeoutExpired:
            raise StepFailed("psql: no answer in %d s" % (120 * SLOW))
        if rc != 0:
            raise StepFailed("psql failed (exit %d):\n%s\n  on:\n%s"
                             % (rc, tail(err), indent(sql)))
        # Only newlines end rows: a value may hold \r, \x1c or U+2028,
        # which str.splitlines would take for line ends too.
        lines = out.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines


def indent(text, pre="    "):
    return "\n".join(pre + x for x in text.splitlines())


# ---- one case ----

def schema_name(case):
    """c<number>_<name>: lower case, [a-z0-9_], unique per case file."""
    s = re.sub(r"[^a-z0-9]+", "_", case.lower()).strip("_")
    return ("c" + s)[:63]


def yaml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Case:
    def __init__(self, args, server, path):
        self.dray, self.plugins = args
        self.server = server
        self.name = os.path.basename(path)[:-len(".case")]
        self.desc, self.sections = parse(path)
        self.schema = schema_name(self.name)
        self.integration = INTEGRATION
        for name, arg, _ in self.sections:
            if name == "schema":
                self.schema = arg.strip()
            elif name == "integration":
                self.integration = arg.strip()
        self.tmp = tempfile.mkdtemp(prefix="dray-pgcase-")
        self.cfg = os.path.join(self.tmp, "dray.yml")
        self.last = None  # (what, stderr) of the last dray command
        self.n_input = 0

    def subst(self, text):
        return text.replace("@SCHEMA@", self.schema)

    def write_config(self):
        mode, extra, dest_opts, spool_opts = None, [], [], []
        for name, arg, lines in self.sections:
            if name == "mode":
                mode = arg.strip()
            elif name == "config":
                extra += lines
            elif name == "dest-options":
                dest_opts += [x.strip() for x in lines if x.strip()]
            elif name == "spool-options":
                spool_opts += [x.strip() for x in lines if x.strip()]
        if mode not in ("upsert", "append"):
            raise CaseError("[mode upsert] or [mode append] is required")
        opts = ["dsn: %s" % yaml_str(self.server.dsn())]
        if not any(x.startswith("schema:") for x in dest_opts):
            opts.append("schema: %s" % yaml_str(self.schema))
        opts += dest_opts
        text = [
            "spool: {%s}" % ", ".join(["path: ./spool"] + spool_opts),
            "plugin_path: [%s]" % yaml_str(self.plugins),
            "run: {concurrency: 1, poll_interval: 100ms, batch_timeout: %ds, "
            "grace: 5s, retry: {attempts: 2, initial: 50ms, max: 200ms}}"
            % (600 * SLOW),
            "destinations:",
            "  - {name: pg, plugin: postgres, mode: %s, options: {%s}}"
            % (mode, ", ".join(opts)),
        ] + extra
        with open(self.cfg, "w") as f:
            f.write("\n".join(text) + "\n")

    def dray_cmd(self, what, *args, want=0, timeout=300):
        rc, out, err = run_cmd([self.dray] + list(args), timeout,
                               env=env_for_dray(), cwd=self.tmp)
        self.last = (what, err)
        if rc != want:
            raise StepFailed("%s exited %d, expected %d; its stderr:\n%s"
                             % (what, rc, want, tail(err)))

    def run_loader(self, want):
        self.dray_cmd("dray run --once", "run", "--once", "-c", self.cfg,
                      want=want, timeout=900)

    def step_input(self, arg, lines):
        a = attrs(arg)
        self.n_input += 1
        path = os.path.join(self.tmp, "input-%d.jsonl" % self.n_input)
        with open(path, "w", encoding="utf-8") as f:
            for x in input_lines(lines):
                f.write(x + "\n")
        self.dray_cmd("dray put (input %d)" % self.n_input, "put", "-q",
                      "-c", self.cfg, "--integration", self.integration, path,
                      want=int(a.get("exit", "0")))
        os.unlink(path)  # a 20 MB input need not stay
        if a.get("run", "yes") != "no":
            self.run_loader(int(a.get("run-exit", "0")))

    def step_spool_sequence(self, arg):
        """Sets the last _sdc_sequence of every stream of the spool to N:
        the next batch gets N+1 when the clock is behind N, else the
        clock (docs/SPOOL.md, 'Making a batch visible', step 3)."""
        want = int(arg.strip())
        d = os.path.join(self.tmp, "spool", "streams")
        files = [f for f in os.listdir(d) if f.endswith(".seq")] \
            if os.path.isdir(d) else []
        if not files:
            raise CaseError("[spool-sequence] before any dray put")
        for fn in files:
            p = os.path.join(d, fn)
            with open(p) as f:
                text = f.read()
            new, n = re.subn(r"(?m)^sequence -?\d+$", "sequence %d" % want,
                             text)
            if n != 1:
                raise CaseError("%s: no 'sequence N' line:\n%s" % (p, text))
            with open(p, "w") as f:
                f.write(new)

    def step_forget_acks(self):
        """Removes the destination's acks, as if the worker had died
        between its COMMIT and the ack (docs/POSTGRES.md "Ledger"): the
        next run offers those batches again. Needs spool.keep_loaded, or
        the batches are gone."""
        d = os.path.join(self.tmp, "spool", "dest", "pg", "acked")
        acks = os.listdir(d) if os.path.isdir(d) else []
        if not acks:
            raise CaseError("[forget-acks]: no acks in %s" % d)
        for a in acks:
            os.unlink(os.path.join(d, a))

    def step_query(self, sql, expected):
        got = self.server.psql(self.subst(sql), self.schema)
        want = [self.subst(x) for x in expected]
        if got != want:
            raise StepFailed(diff(sql, want, got))

    def step_rejects(self, expected, implicit=False):
        """Rows of _sdc_rejected as (table_name, reason): each expected
        'table|reason part' matches one row whose reason contains the part;
        no row is left over."""
        rows = self._rejected_rows()
        left = list(rows)
        missing = []
        for line in expected:
            if not line.strip():
                continue
            table, _, part = line.partition("|")
            for r in left:
                if r[0] == table and part in r[1]:
                    left.remove(r)
                    break
            else:
                missing.append(line)
        if missing or left:
            what = "unexpected rejects" if implicit else "rejects differ"
            msg = ["  %s (table_name|reason in _sdc_rejected)" % what]
            msg += ["  - expected, not found: " + x for x in missing]
            msg += ["  + found, not expected: %s|%s" % r for r in left]
            raise StepFailed("\n".join(msg))

    def _rejected_rows(self):
        exists = self.server.psql(
            "SELECT to_regclass('\"%s\".\"_sdc_rejected\"') IS NOT NULL"
            % self.schema, self.schema)
        if exists != ["t"]:
            return []
        out = self.server.psql(
            "SELECT table_name, replace(replace(reason, E'\\n', ' '), "
            "'|', '/') FROM \"%s\".\"_sdc_rejected\" ORDER BY 1, 2"
            % self.schema, self.schema)
        return [tuple(x.split("|", 1)) if "|" in x else (x, "")
                for x in out]

    def step_stderr(self, lines):
        if self.last is None:
            raise CaseError("[stderr-contains] before any dray command")
        what, err = self.last
        for x in lines:
            if x.strip() and x.strip() not in err:
                raise StepFailed("%s: stderr lacks %r; it was:\n%s"
                                 % (what, x.strip(), tail(err)))

    def run(self):
        self.write_config()
        secs = self.sections
        saw_rejects = False
        i = 0
        while i < len(secs):
            name, arg, lines = secs[i]
            if name == "input":
                self.step_input(arg, lines)
            elif name == "run":
                self.run_loader(int(attrs(arg).get("exit", "0")))
            elif name == "sql":
                self.server.psql(self.subst("\n".join(lines)), self.schema)
            elif name == "query":
                if i + 1 >= len(secs) or secs[i + 1][0] != "expect":
                    raise CaseError("[query] must be followed by [expect]")
                self.step_query("\n".join(lines), secs[i + 1][2])
                i += 1
            elif name == "rejects":
                saw_rejects = True
                self.step_rejects(lines)
            elif name == "spool-sequence":
                self.step_spool_sequence(arg)
            elif name == "stderr-contains":
                self.step_stderr(lines)
            elif name == "forget-acks":
                self.step_forget_acks()
            elif name == "expect":
                raise CaseError("[expect] without a [query] before it")
            i += 1
        if not saw_rejects:
            self.step_rejects([], implicit=True)

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def diff(sql, want, got):
    out = ["  query:", indent(sql.strip(), "    "), "  expected:"]
    out += ["    " + x for x in want] or ["    (no rows)"]
    out.append("  got:")
    out += ["    " + x for x in got] or ["    (no rows)"]
    for n in range(max(len(want), len(got))):
        w = want[n] if n < len(want) else None
        g = got[n] if n < len(got) else None
        if w != g:
            out.append("  first difference at row %d: expected %r, got %r"
                       % (n + 1, w, g))
            break
    return "\n".join(out)


def fail(name, detail):
    checks.failed += 1
    print("FAIL", name)
    print(detail, flush=True)


def main():
    if len(sys.argv) != 4:
        print("usage: run_cases.py DRAY PLUGIN_DIR CASES_DIR", file=sys.stderr)
        return 2
    dray, plugins, cases_dir = (os.path.abspath(a) for a in sys.argv[1:])
    pick = os.environ.get("CASES", "*")
    cases = sorted(f for f in os.listdir(cases_dir) if f.endswith(".case")
                   and (fnmatch.fnmatch(f, pick) or
                        fnmatch.fnmatch(f[:-5], pick)))
    if not cases:
        print("no case matches CASES=%r in %s" % (pick, cases_dir))
        return 1
    server = CaseServer("dray-pgcases-")
    return serve(server, lambda: run_all(dray, plugins, server, cases_dir,
                                         cases))


def run_all(dray, plugins, server, cases_dir, cases):
    """Each case in its own folder against the one server; the tally, then
    exit (1 on a failure)."""
    failed_names = []
    for fn in cases:
        path = os.path.join(cases_dir, fn)
        name = fn[:-len(".case")]
        try:
            case = Case((dray, plugins), server, path)
        except CaseError as e:
            fail(name, "    %s" % e)
            failed_names.append(name)
            continue
        try:
            case.run()
            checks.passed += 1
            print("ok", name, flush=True)
        except (StepFailed, CaseError) as e:
            fail(name, "    (%s)\n%s" % (case.desc, e))
            failed_names.append(name)
        except Exception:  # a bug here must not hide the other cases
            fail(name, indent(traceback.format_exc()))
            failed_names.append(name)
        finally:
            case.close()
    if failed_names:
        print("failed:", " ".join(failed_names))
    checks.finish()


if __name__ == "__main__":
    sys.exit(main())
