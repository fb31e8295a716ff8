"""What the S3 destination's end-to-end tests share, whatever the store:
test_s3_files.py (file://) and, through s3_moto_util.py, the tests against
moto and real S3.

    DRAY PLUGIN_DIR are the scripts' arguments (PLUGIN_DIR holds s3.so).

- LakeBase: a temp folder with a dray.yml whose destinations are s3
  instances in append mode, routed from the integration `shop`, and the
  dray commands the tests run on it (subclasses say where objects go);
- the Singer input several tests load (orders_input(): a nested stream
  with text CSV must carry through) and checks of its CSV tables;
- readers of what was written: default-template keys, CSV by Python's
  csv module and by a tokenizer that tells "" from NULL;
- checks for CSV quoting and for a batch loaded twice;
- run_tests(): each test timed, a raising test failed, the tally.
"""
import csv
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
from decimal import Decimal

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "runtime"))
from checks import check, finish  # noqa: E402
from runtime_util import SLOW, env as runtime_env, yaml  # noqa: E402

DRAY, PLUGINS = sys.argv[1], sys.argv[2]
INTEG = "shop"
# The system columns of every CSV table (docs/DATA_CORE.md); the root's
# also have _sdc_extracted_at when records carry time_extracted.
SUBSYS = {"_sdc_received_at", "_sdc_batched_at", "_sdc_sequence",
          "_sdc_table_version"}
SYS = SUBSYS | {"_sdc_extracted_at"}
JSONL_TAIL = ["_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at",
              "_sdc_table_version", "_sdc_sequence"]
EXTRACTED = "2024-05-01T09:00:00+02:00"
EXTRACTED_UTC = "2024-05-01T07:00:00.000000Z"
# Text that CSV must carry through: each delimiter, quotes, line ends,
# non-ASCII, blanks at the ends.
NASTY = 'a,b|c\td "q" \'s\'\nline2\r\nline3 Zo\u00e9 \u6771\u4eac \U0001F600 '
# Values of the column s in the quoting tests, the row id their index:
# 1 is "" and 2 NULL, 3 plain text.
QUOTING_VALUES = [NASTY, "", None, "plain", " x ", '"', "|", "\t", ",",
                  "\n"]
# A flat stream: id, s, n.
FLAT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "s": {"type": ["null", "string"]},
    "n": {"type": ["null", "integer"]}}}


def require_plugin():
    """Fails the script at once when PLUGIN_DIR holds no s3.so."""
    if not check(os.path.exists(os.path.join(PLUGINS, "s3.so")),
                 "no s3.so in %s" % PLUGINS):
        finish()


# ---- the input ----

def orders_schema(at=False):
    """The orders stream's schema: an object two levels deep, an array of
    objects holding an array of objects, an array of strings; with at, a
    date-time column after amount."""
    props = {"id": {"type": "integer"},
             "note": {"type": ["null", "string"]},
             "amount": {"type": ["null", "number"]}}
    if at:
        props["at"] = {"type": ["null", "string"], "format": "date-time"}
    props.update({
        "cust": {"type": ["null", "object"], "properties": {
            "name": {"type": ["null", "string"]},
            "addr": {"type": ["null", "object"], "properties": {
                "city": {"type": ["null", "string"]}}}}},
        "items": {"type": ["null", "array"], "items": {
            "type": "object", "properties": {
                "sku": {"type": "string"}, "qty": {"type": "integer"},
                "tax": {"type": ["null", "array"], "items": {
                    "type": "object", "properties": {
                        "rate": {"type": "number"},
                        "kind": {"type": "string"}}}}}}},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}}})
    return {"type": "object", "properties": props}


def schema(stream, props, keys=("id",)):
    return {"type": "SCHEMA", "stream": stream, "key_properties": list(keys),
            "schema": props}


def record(stream, rec, version=None):
    m = {"type": "RECORD", "stream": stream, "record": rec,
         "time_extracted": EXTRACTED}
    if version is not None:
        m["version"] = version
    return m


def orders_input(at=False):
    """Three orders: 1 with every field (NASTY text, two items, one with
    two taxes, two tags), 2 with "" and NULLs, 3 with "" and NULL nested;
    with at, order 1 also has the date-time column at = EXTRACTED."""
    one = {"id": 1, "note": NASTY, "amount": 19.9}
    if at:
        one["at"] = EXTRACTED
    one.update({
        "cust": {"name": "Zo\u00e9", "addr": {"city": "Paris"}},
        "items": [{"sku": "a", "qty": 2,
                   "tax": [{"rate": 0.2, "kind": "vat"},
                           {"rate": 0.05, "kind": "eco"}]},
                  {"sku": "b", "qty": 1}],
        "tags": ["x", "y"]})
    return [
        schema("orders", orders_schema(at)),
        record("orders", one),
        record("orders", {"id": 2, "note": "", "amount": None,
                          "cust": None, "items": [], "tags": None}),
        record("orders", {"id": 3, "note": None,
                          "cust": {"name": "", "addr": None},
                          "items": [{"sku": "c", "qty": 5,
                                     "tax": [{"rate": 0.1, "kind": "x"}]}],
                          "tags": ["z"]}),
    ]


def check_order_one(one):
    """Order 1 of orders_input() as a row of the orders table: its text,
    its object flattened into a__b columns, its number."""
    check(one.get("note") == NASTY, "text round-trips: %r"
          % one.get("note"))
    check(one.get("cust__name") == "Zo\u00e9" and
          one.get("cust__addr__city") == "Paris",
          "objects flattened into a__b columns: %s" % one)
    check(Decimal(one.get("amount") or "0") == Decimal("19.9"),
          "amount: %s" % one.get("amount"))


def check_order_items(table):
    """The subtables orders__items and orders__items__tax of
    orders_input(); table(name) gives (header, rows) of one."""
    head, rows = table("orders__items")
    check(set(head) == {"sku", "qty", "_sdc_source_key_id",
                        "_sdc_level_0_id"} | SUBSYS,
          "orders__items header: %s" % head)
    got = sorted((x["_sdc_source_key_id"], x["_sdc_level_0_id"],
                  x["sku"], x["qty"]) for x in rows)
    check(got == [("1", "0", "a", "2"), ("1", "1", "b", "1"),
                  ("3", "0", "c", "5")], "orders__items rows: %s" % got)
    head, rows = table("orders__items__tax")
    check(set(head) == {"rate", "kind", "_sdc_source_key_id",
                        "_sdc_level_0_id", "_sdc_level_1_id"} | SUBSYS,
          "orders__items__tax header: %s" % head)
    got = sorted((x["_sdc_source_key_id"], x["_sdc_level_0_id"],
                  x["_sdc_level_1_id"], Decimal(x["rate"]), x["kind"])
                 for x in rows)
    check(got == [("1", "0", "0", Decimal("0.2"), "vat"),
                  ("1", "0", "1", Decimal("0.05"), "eco"),
                  ("3", "0", "0", Decimal("0.1"), "x")],
          "orders__items__tax rows: %s" % got)


# ---- a temp folder with a config ----

class LakeBase:
    """A temp folder with a dray.yml: a spool, destinations of plugin s3
    in append mode, all routed from INTEG. A subclass says where each
    destination writes (dest_options) and may set the class figures."""

    TMP_PREFIX = "dray-s3-"
    CONCURRENCY = 1
    BATCH_TIMEOUT = 120  # seconds, times SLOW
    RUN_TIMEOUT = 120  # of `dray run --once`, seconds, times SLOW

    def __init__(self, name, dests, batch=None, spool=None, run=None):
        """dests: {name: options}, as dest_options() completes them."""
        self.tmp = tempfile.mkdtemp(prefix="%s%s-" % (self.TMP_PREFIX, name))
        self.cfg = os.path.join(self.tmp, "dray.yml")
        self.spool = os.path.join(self.tmp, "spool")
        self.puts = []  # (ms before, ms after) of each put
        r = {"concurrency": self.CONCURRENCY, "poll_interval": "100ms",
             "grace": "5s", "crash_limit": 20,
             "batch_timeout": "%ds" % (self.BATCH_TIMEOUT * SLOW),
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
            lines.append("  - {name: %s, plugin: s3, mode: append, "
                         "options: %s}" % (d, yaml(self.dest_options(d,
                                                                     opts))))
        lines.append("routes:")
        lines.append("  - {integration: %s, destinations: [%s]}"
                     % (INTEG, ", ".join(dests)))
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")

    def dest_options(self, name, opts):
        """The options written for destination name (self.tmp is set)."""
        return opts

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self, extra=None):
        """dray's environment: the runtime tests' (ASan's handle_segv)."""
        e = runtime_env()
        e.update(extra or {})
        return e

    def dray(self, *args, stdin=None, timeout=120, env=None):
        return subprocess.run([DRAY] + list(args), input=stdin, text=True,
                              capture_output=True, env=self.env(env),
                              timeout=timeout * SLOW)

    def put(self, messages, expect_exit=0, timeout=120):
        """messages: dicts, or str lines sent as written (numbers whose
        digits matter)."""
        text = "".join((m if isinstance(m, str) else json.dumps(m)) + "\n"
                       for m in messages)
        t0 = int(time.time() * 1000)
        p = self.dray("put", "-q", "-c", self.cfg, "--integration", INTEG,
                      stdin=text, timeout=timeout)
        self.puts.append((t0, int(time.time() * 1000) + 1))
        check(p.returncode == expect_exit, "put: exit %d: %s"
              % (p.returncode, p.stderr))
        return p

    def run(self, expect_exit=0, what="run", env=None, timeout=None):
        p = self.dray("run", "--once", "-c", self.cfg, env=env,
                      timeout=timeout or self.RUN_TIMEOUT)
        check(p.returncode == expect_exit, "%s: dray run --once exit %d, "
              "expected %d: %s" % (what, p.returncode, expect_exit,
                                   p.stderr))
        return p

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


# ---- reading what was written ----

def parse_key(key, prefix="", ext="csv"):
    """(table, version, loaded ms) of a default-template key under
    prefix, or None."""
    pre = re.escape(prefix + "/") if prefix else ""
    m = re.fullmatch(r"%sshop/([^/]+)/(\d+)_(\d+)\.%s" % (pre,
                                                        re.escape(ext)), key)
    return m and (m.group(1), int(m.group(2)), int(m.group(3)))


def tables_of(keys, prefix="", ext="csv"):
    """{table: [(version, ms)]} of default-template keys under prefix,
    the rejects left out; a key of another shape fails the check and is
    left out."""
    pre = prefix + "/" if prefix else ""
    out = {}
    for k in keys:
        if k.startswith(pre + "shop/_sdc_rejected/"):
            continue
        p = parse_key(k, prefix, ext)
        if check(p, "key %r is not %sshop/<table>/<version>_<ms>.%s"
                 % (k, pre, ext)):
            out.setdefault(p[0], []).append(p[1:])
    return out


def read_csv(data, delimiter=",", same_width=False):
    """(header, [row dict]) by Python's csv module; with same_width, a
    check that every row has the header's width."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""),
                           delimiter=delimiter))
    if same_width:
        check(rows and all(len(r) == len(rows[0]) for r in rows),
              "every row has the header's width: %s" % rows[:3])
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


# ---- CSV quoting ----

def quoting_input(stream):
    """A stream whose rows are id, s (QUOTING_VALUES[id]) and n (NULL in
    odd rows, else id): its objects are read by csv and raw_fields()."""
    return [schema(stream, FLAT)] + [
        record(stream, {"id": i, "s": v, "n": None if i % 2 else i})
        for i, v in enumerate(QUOTING_VALUES)]


def raw_column(raw, col):
    """{id: (text, quoted)} of one column of raw_fields() rows."""
    rh = [t for t, _ in raw[0]]
    return {int(row[rh.index("id")][0]): row[rh.index(col)]
            for row in raw[1:]}


def check_quoting_values(what, rows, data, delim):
    """rows (by csv) and data: the values of s come back as written, ""
    quoted and NULL an empty unquoted field. Returns the raw_fields()
    rows."""
    got = {int(x["id"]): x["s"] for x in rows}
    check(got == {i: v or "" for i, v in enumerate(QUOTING_VALUES)},
          "%s: values round-trip: %s" % (what, got))
    raw = raw_fields(data, delim)
    s = raw_column(raw, "s")
    check(s.get(1) == ("", True) and s.get(2) == ("", False),
          "%s: \"\" vs NULL: %r %r" % (what, s.get(1), s.get(2)))
    return raw


def check_quote_all(what, raw):
    """quote_all: every value quoted but NULL, numbers too."""
    bad = [f for row in raw[1:] for f in row
           if f != ("", False) and not f[1]]
    check(not bad, "%s: quote_all: every non-NULL value quoted: %s"
          % (what, bad))
    n = raw_column(raw, "n")
    check(n.get(1) == ("", False) and n.get(2) == ("2", True),
          "%s: quote_all: NULL stays unquoted: %r %r"
          % (what, n.get(1), n.get(2)))


def check_plain_unquoted(what, raw):
    rh = [t for t, _ in raw[0]]
    plain = [row[rh.index("s")] for row in raw[1:]
             if row[rh.index("id")][0] == "3"]
    check(plain == [("plain", False)],
          "%s: without quote_all, plain text is not quoted: %s"
          % (what, plain))


# ---- loaded again ----

def without_times(data):
    """Reject lines without their _sdc_rejected_at."""
    return [{k: v for k, v in json.loads(x).items()
             if k != "_sdc_rejected_at"} for x in data.splitlines()]


def check_same_objects(what, before, after):
    """{key: bytes} after a batch was loaded again: the same keys, the
    same bytes (rejects the same but for their time)."""
    check(sorted(after) == sorted(before),
          "%s: the same keys, none added: %s" % (what, sorted(after)))
    for k in before:
        if k not in after:
            continue
        if "/_sdc_rejected/" in k:
            check(without_times(after[k]) == without_times(before[k]),
                  "%s: %s holds the same rejects" % (what, k))
        else:
            check(after[k] == before[k], "%s: %s has the same bytes"
                  % (what, k))


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
