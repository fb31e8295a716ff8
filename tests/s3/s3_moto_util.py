"""Shared by the S3 plugin's tests against moto and real S3
(test_s3_moto_e2e.py, _faults, _auth, _kill, test_s3_live.py).

    DRAY PLUGIN_DIR are the scripts' arguments (PLUGIN_DIR holds s3.so).

A Lake is a temp folder with a dray.yml: a spool, destinations of plugin
s3 in append mode (options as given, s3_opts() makes the usual ones), all
routed from the integration `shop`. Its commands run dray with an
environment of its own: no AWS_* variable of the machine, HOME the temp
folder (no ~/.aws of the machine), no instance metadata unless a test
asks for it. What the tests assert on is what a user could look at: the
objects read back with boto3 (an independent client), parsed with
Python's csv, json and gzip, dray's exit codes and output, `dray status`
and `dray quarantine show`.
"""
import csv
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "runtime"))
from checks import check, finish  # noqa: E402,F401 (re-exported)
from runtime_util import SLOW, env as runtime_env  # noqa: E402,F401
from runtime_util import stop, wait_for, workers, yaml  # noqa: E402,F401
import s3_util  # noqa: E402

DRAY, PLUGINS = sys.argv[1], sys.argv[2]
INTEG = "shop"
MIB = 1024 * 1024
# The system columns of a CSV table (docs/DATA_CORE.md); the root's also
# have _sdc_extracted_at when records carry time_extracted.
SUBSYS = {"_sdc_received_at", "_sdc_batched_at", "_sdc_sequence",
          "_sdc_table_version"}
JSONL_TAIL = ["_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at",
              "_sdc_table_version", "_sdc_sequence"]


def dray_env(extra=None, home=None):
    """dray's environment: the runtime tests' (ASan's handle_segv) without
    the machine's AWS settings; extra on top (a value None removes)."""
    e = runtime_env()
    for k in list(e):
        if k.startswith("AWS_"):
            del e[k]
    if home:
        e["HOME"] = home
    e["AWS_EC2_METADATA_DISABLED"] = "true"
    for k, v in (extra or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def s3_opts(endpoint, bucket, prefix="", **kw):
    """The options of a destination writing to s3://bucket/prefix at a
    fake S3: path style, dummy keys (moto without auth takes any)."""
    o = {"url": "s3://%s%s" % (bucket, "/" + prefix if prefix else ""),
         "endpoint": endpoint, "path_style": True, "region": "us-east-1",
         "access_key_id": s3_util.DUMMY_KEY_ID,
         "secret_access_key": s3_util.DUMMY_SECRET}
    for k, v in kw.items():
        if v is None:
            o.pop(k, None)
        else:
            o[k] = v
    return o


def no_sanitizer_report(text, what):
    """A sanitizer's report from dray or a worker (which would otherwise
    pass for one more crash that the run retried)."""
    i = text.find("Sanitizer")
    check(i < 0, "%s: a sanitizer report: %s" % (what, text[max(0, i - 200):
                                                         i + 1500]))


class Lake:
    """A temp folder with a config whose destinations are s3 instances."""

    def __init__(self, name, dests, batch=None, spool=None, run=None,
                 env=None):
        """dests: {name: options}; a url file://{tmp}/NAME is a folder in
        the Lake's own."""
        self.tmp = tempfile.mkdtemp(prefix="dray-s3m-%s-" % name)
        self.cfg = os.path.join(self.tmp, "dray.yml")
        self.spool = os.path.join(self.tmp, "spool")
        self.env_extra = dict(env or {})
        self.puts = []  # (ms before, ms after) of each put
        r = {"concurrency": 2, "poll_interval": "100ms", "grace": "5s",
             "crash_limit": 20, "batch_timeout": "%ds" % (300 * SLOW),
             "retry": {"attempts": 2, "initial": "50ms", "max": "100ms"}}
        r.update(run or {})
        lines = ["spool: %s" % yaml(dict({"path": "./spool"},
                                         **(spool or {}))),
                 "plugin_path: [%s]" % json.dumps(PLUGINS),
                 "run: %s" % yaml(r)]
        if batch:
            lines.append("batch: %s" % yaml(batch))
        lines.append("destinations:")
        for d, opts in dests.items():
            if str(opts.get("url", "")).startswith("file://{tmp}/"):
                opts = dict(opts, url=opts["url"].replace("{tmp}", self.tmp))
            lines.append("  - {name: %s, plugin: s3, mode: append, "
                         "options: %s}" % (d, yaml(opts)))
        lines.append("routes:")
        lines.append("  - {integration: %s, destinations: [%s]}"
                     % (INTEG, ", ".join(dests)))
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self, extra=None):
        e = dict(self.env_extra)
        e.update(extra or {})
        return dray_env(e, home=self.tmp)

    def dray(self, *args, stdin=None, timeout=120, env=None):
        p = subprocess.run([DRAY] + list(args), input=stdin, text=True,
                           capture_output=True, env=self.env(env),
                           timeout=timeout * SLOW)
        no_sanitizer_report(p.stderr, "dray %s" % args[0])
        return p

    def put(self, messages, expect_exit=0, timeout=120):
        """messages: dicts, or str lines sent as written."""
        text = "".join((m if isinstance(m, str) else json.dumps(m)) + "\n"
                       for m in messages)
        t0 = int(time.time() * 1000)
        p = self.dray("put", "-q", "-c", self.cfg, "--integration", INTEG,
                      stdin=text, timeout=timeout)
        self.puts.append((t0, int(time.time() * 1000) + 1))
        check(p.returncode == expect_exit, "put: exit %d: %s"
              % (p.returncode, p.stderr))
        return p

    def run(self, expect_exit=0, what="run", env=None, timeout=300):
        p = self.dray("run", "--once", "-c", self.cfg, env=env,
                      timeout=timeout)
        check(p.returncode == expect_exit, "%s: dray run --once exit %d, "
              "expected %d: %s" % (what, p.returncode, expect_exit,
                                   p.stderr))
        return p

    def start_run(self, env=None):
        """dray run --once in the background, in a session of its own (so
        that stop() kills it and its workers); stderr kept in run.err."""
        err = open(os.path.join(self.tmp, "run.err"), "w")
        p = subprocess.Popen([DRAY, "run", "--once", "-c", self.cfg],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err,
                             env=self.env(env), start_new_session=True)
        err.close()
        return p

    def run_err(self):
        with open(os.path.join(self.tmp, "run.err"), errors="replace") as f:
            return f.read()

    def status(self):
        p = self.dray("status", "--json", "-c", self.cfg)
        check(p.returncode == 0, "status: %s" % p.stderr)
        try:
            return json.loads(p.stdout)
        except ValueError:
            check(False, "status --json is not JSON: %r" % p.stdout[:300])
            return {"destinations": [], "quarantined": []}

    def dest_status(self, name="lake"):
        for d in self.status()["destinations"]:
            if d["name"] == name:
                return d
        return {}

    def batch_ids(self):
        d = os.path.join(self.spool, "batches")
        return sorted(f[:-6] for f in os.listdir(d) if f.endswith(".batch"))

    def forget_acks(self, dest="lake"):
        """Removes dest's acks (spool.keep_loaded keeps the batches), as
        if its worker had died between its commit and the ack: the next
        run offers the batches again."""
        d = os.path.join(self.spool, "dest", dest, "acked")
        acks = os.listdir(d) if os.path.isdir(d) else []
        check(acks, "forget acks: nothing acked in %s" % d)
        for a in acks:
            os.unlink(os.path.join(d, a))

    def worker_of(self, run_pid, dest):
        """Pids of run_pid's live workers loading destination dest."""
        out = []
        for w in workers(run_pid):
            try:
                with open("/proc/%d/cmdline" % w, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"__worker" in argv and dest.encode() in argv:
                out.append(w)
        return out

    def spool_text(self):
        """Every file of the spool's dest/ folders (markers, reasons,
        errors), for a test that a secret went nowhere."""
        out = []
        root = os.path.join(self.spool, "dest")
        for d, _, files in os.walk(root):
            for f in files:
                try:
                    with open(os.path.join(d, f), "rb") as fh:
                        out.append(fh.read().decode("utf-8", "replace"))
                except OSError:
                    pass
        return "\n".join(out)


# ---- reading what was written ----

def list_keys(c, bucket, prefix=""):
    return s3_util.list_keys(c, bucket, prefix)


def get(c, bucket, key):
    """The object's bytes, gunzipped when its key ends in .gz."""
    b = s3_util.read_object(c, bucket, key)
    return gzip.decompress(b) if key.endswith(".gz") else b


def delete_all(c, bucket, prefix=""):
    for k in list_keys(c, bucket, prefix):
        c.delete_object(Bucket=bucket, Key=k)


def parse_key(key, prefix="", ext="csv"):
    """(table, version, loaded ms) of a default-template key under
    prefix, or None."""
    pre = re.escape(prefix + "/") if prefix else ""
    m = re.fullmatch(r"%sshop/([^/]+)/(\d+)_(\d+)\.%s" % (pre,
                                                        re.escape(ext)), key)
    return m and (m.group(1), int(m.group(2)), int(m.group(3)))


def read_csv(data, delimiter=","):
    """(header, [row dict]) by Python's csv module."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""),
                           delimiter=delimiter))
    if not rows:
        return [], []
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def raw_fields(data, delimiter=","):
    """The CSV text as rows of (text, quoted) fields, read by hand, so
    that an empty unquoted field (NULL) and "" (an empty string) differ."""
    text, rows, row, i = data.decode("utf-8"), [], [], 0
    n = len(text)
    while i < n:
        if text[i] == '"':
            parts, i = [], i + 1
            while True:
                j = text.index('"', i)
                parts.append(text[i:j])
                if text[j + 1:j + 2] == '"':
                    parts.append('"')
                    i = j + 2
                else:
                    i = j + 1
                    break
            row.append(("".join(parts), True))
        else:
            j = i
            while j < n and text[j] not in (delimiter, "\n", "\r"):
                if text[j] == '"':
                    raise ValueError("a quote inside an unquoted field")
                j += 1
            row.append((text[i:j], False))
            i = j
        if i >= n:
            rows.append(row)
            break
        if text[i] == delimiter:
            i += 1
            if i >= n:  # a trailing delimiter: one more empty field
                row.append(("", False))
                rows.append(row)
        elif text.startswith("\r\n", i) or text[i] == "\n":
            i += 2 if text[i] == "\r" else 1
            rows.append(row)
            row = []
        else:
            raise ValueError("text after a closing quote at %d" % i)
    return rows


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---- big batches ----

def big_stream(stream, n, width, start=0):
    """(Singer lines, data digest) of n flat records id/note/n whose note
    is about width characters: ASCII with a comma, a quote now and then,
    and one non-ASCII letter, so CSV quoting is exercised at volume. The
    digest covers (id, note, n) as text, in put order, computed here from
    the input only."""
    lines = [json.dumps({"type": "SCHEMA", "stream": stream,
                         "key_properties": ["id"], "schema": {
                             "type": "object", "properties": {
                                 "id": {"type": "integer"},
                                 "note": {"type": "string"},
                                 "n": {"type": ["null", "integer"]}}}})]
    h = hashlib.sha256()
    fill = "abcdefghij klmnopqrst uvwxyz0123 " * (width // 33 + 1)
    for i in range(start, start + n):
        note = ("event %d, caf\u00e9 " % i) + fill[i % 33:i % 33 + width]
        if i % 997 == 0:
            note += ' "quoted"'
        v = None if i % 10 == 5 else i * 7 % 1000  # the first is not
        lines.append(json.dumps({"type": "RECORD", "stream": stream,
                                 "record": {"id": i, "note": note, "n": v}}))
        h.update(("%d\x1f%s\x1f%s\n" % (i, note, "" if v is None else v))
                 .encode())
    return lines, h.hexdigest()


def csv_digest(data, cols=("id", "note", "n")):
    """(rows, digest) of an object's data columns, in the object's order,
    as big_stream() computes them; checks the system columns too."""
    h = hashlib.sha256()
    rows = 0
    head = None
    last_seq = -1
    bad_seq = bad_version = 0
    for r in csv.reader(io.StringIO(data.decode("utf-8"), newline="")):
        if head is None:
            head = r
            idx = [head.index(c) if c in head else None for c in cols]
            si = head.index("_sdc_sequence") if "_sdc_sequence" in head \
                else None
            vi = head.index("_sdc_table_version") \
                if "_sdc_table_version" in head else None
            continue
        rows += 1
        h.update(("\x1f".join(r[i] if i is not None else "?" for i in idx) +
                  "\n").encode())
        if si is not None:
            seq = int(r[si])
            bad_seq += seq <= last_seq
            last_seq = seq
        if vi is not None:
            bad_version += r[vi] != "0"
    check(head is not None and SUBSYS <= set(head or []),
          "the header has the system columns: %s" % head)
    check(bad_seq == 0 and bad_version == 0,
          "_sdc_sequence grows row to row (%d do not), _sdc_table_version "
          "is 0 (%d are not)" % (bad_seq, bad_version))
    return rows, h.hexdigest()


# ---- running ----

def run_tests(tests):
    """Runs each test (ONLY=word: those whose name holds it); a test that
    raises fails, the others still run. Prints the tally and exits."""
    only = os.environ.get("ONLY")
    for t in tests:
        if only and only not in t.__name__:
            continue
        t0 = time.monotonic()
        try:
            t()
        except Exception:
            check(False, "%s raised:\n%s" % (t.__name__,
                                              traceback.format_exc()))
        print("%s: %.1f s" % (t.__name__, time.monotonic() - t0), flush=True)
    finish()
