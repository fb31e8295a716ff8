"""Shared by the S3 plugin's tests against moto and real S3
(test_s3_moto_e2e.py, _faults, _auth, _kill, test_s3_live.py), on top of
s3_common.py (what the file:// tests share too; re-exported here, so
that a test imports from this module alone).

    DRAY PLUGIN_DIR are the scripts' arguments (PLUGIN_DIR holds s3.so).

A Lake is a temp folder with a dray.yml: a spool, destinations of plugin
s3 in append mode (options as given, s3_opts() makes the usual ones), all
routed from the integration `shop`. Its commands run dray with an
environment of its own: no AWS_* variable of the machine, HOME the temp
folder (no ~/.aws of the machine), no instance metadata unless a test
asks for it. What the tests assert on is what a user could look at: the
objects read back with boto3 (an independent client), parsed with
Python's csv, json and gzip, dray's exit codes and output, `dray status`
and `dray quarantine show`. main_with_moto() is the scripts' main.
"""
import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# Re-exported: the moto tests import these from here.
from s3_common import (  # noqa: E402,F401
    DRAY, EXTRACTED, EXTRACTED_UTC, FLAT, JSONL_TAIL, PLUGINS, QUOTING_VALUES,
    SLOW, SUBSYS, SYS, LakeBase, check, check_order_items, check_order_one,
    check_plain_unquoted, check_quote_all, check_quoting_values,
    check_same_objects, finish, orders_input, orders_schema, parse_key,
    quoting_input, raw_fields, read_csv, record, require_plugin, run_tests,
    runtime_env, schema, tables_of)
from runtime_util import stop, wait_for, workers  # noqa: E402,F401
from s3_server import have_moto  # noqa: E402
import s3_util  # noqa: E402

MIB = 1024 * 1024


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


class Lake(LakeBase):
    """A temp folder with a config whose destinations are s3 instances."""

    TMP_PREFIX = "dray-s3m-"
    CONCURRENCY = 2
    BATCH_TIMEOUT = 300
    RUN_TIMEOUT = 300

    def __init__(self, name, dests, batch=None, spool=None, run=None,
                 env=None):
        """dests: {name: options}; a url file://{tmp}/NAME is a folder in
        the Lake's own. env: dray's environment on top of dray_env()."""
        self.env_extra = dict(env or {})
        super().__init__(name, dests, batch=batch, spool=spool, run=run)

    def dest_options(self, name, opts):
        if str(opts.get("url", "")).startswith("file://{tmp}/"):
            return dict(opts, url=opts["url"].replace("{tmp}", self.tmp))
        return opts

    def env(self, extra=None):
        e = dict(self.env_extra)
        e.update(extra or {})
        return dray_env(e, home=self.tmp)

    def dray(self, *args, stdin=None, timeout=120, env=None):
        p = super().dray(*args, stdin=stdin, timeout=timeout, env=env)
        no_sanitizer_report(p.stderr, "dray %s" % args[0])
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

def main_with_moto(server, tests, ready=None):
    """A script's main: exits 77 without moto_server or boto3, fails
    without s3.so; else starts server (a MotoServer the tests reach as a
    global), calls ready(), runs the tests and stops the server."""
    if not have_moto():
        print("skipped: moto_server or boto3 is not installed")
        sys.exit(77)
    require_plugin()
    try:
        server.start()
        if ready:
            ready()
        run_tests(tests)
    finally:
        server.stop()
