#!/usr/bin/env python3
"""The S3 destination's local-folder store (file://) end to end.

    test_s3_files.py DRAY PLUGIN_DIR        (PLUGIN_DIR holds s3.so)

Each test: a fresh folder with a dray.yml (spool in the folder, one
destination `lake` of plugin s3 in append mode writing to file://<tmp>/out,
sometimes more destinations beside it), `dray put` of Singer lines and
`dray run --once`, then the folder read with Python's own csv, json and
gzip modules and a small CSV tokenizer (s3_common.py, shared with the
tests against moto) that also tells quoted fields from unquoted ones.
What is asserted is what docs/S3.md promises a user: the keys, the bytes
of the objects, the rejects, that a batch loaded again replaces its
objects, that a killed load leaves nothing half-written and no temp files
after the next run, and clear errors for a folder dray may not write to.
ONLY=word runs the tests whose name holds it; SEED sets the random kill
time.
"""
import csv
import datetime
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_common import (  # noqa: E402
    DRAY, EXTRACTED, EXTRACTED_UTC, JSONL_TAIL, QUOTING_VALUES, SLOW, SUBSYS,
    SYS, LakeBase, check, check_order_items, check_order_one,
    check_plain_unquoted, check_quote_all, check_quoting_values,
    check_same_objects, orders_input, orders_schema, parse_key,
    quoting_input, raw_fields, record, require_plugin, run_tests, schema,
    tables_of)
import s3_common  # noqa: E402
from runtime_util import stop, wait_for, workers  # noqa: E402

# The orders of these tests have a date-time column too.
ORDERS = orders_schema(at=True)


# ---- a case's folder ----

class Lake(LakeBase):
    """A temp folder with a config: destination `lake` writes to out/,
    any other destination NAME to out-NAME/."""

    def __init__(self, name, options=None, more=None, batch=None,
                 spool=None, run=None):
        dests = {"lake": options or {}}
        dests.update(more or {})
        super().__init__(name, dests, batch=batch, spool=spool, run=run)

    def dest_options(self, name, opts):
        o = {"url": "file://" + self.out(name)}
        o.update(opts)
        return o

    def out(self, dest="lake"):
        return os.path.join(self.tmp, "out" if dest == "lake"
                            else "out-" + dest)

    def status(self):
        p = self.dray("status", "--json", "-c", self.cfg)
        check(p.returncode == 0, "status: %s" % p.stderr)
        return {d["name"]: d for d in json.loads(p.stdout)["destinations"]}

    # ---- what is in the folder ----

    def keys(self, dest="lake"):
        """Every object's key: the files under out/ but .dray-tmp/."""
        root, out = self.out(dest), []
        for d, dirs, files in os.walk(root):
            if d == root and ".dray-tmp" in dirs:
                dirs.remove(".dray-tmp")
            out += [os.path.relpath(os.path.join(d, f), root) for f in files]
        return sorted(out)

    def leftovers(self, dest="lake"):
        d = os.path.join(self.out(dest), ".dray-tmp")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def raw(self, key, dest="lake"):
        with open(os.path.join(self.out(dest), key), "rb") as f:
            return f.read()

    def data(self, key, dest="lake"):
        """The object's bytes, gunzipped when its key ends in .gz."""
        b = self.raw(key, dest)
        return gzip.decompress(b) if key.endswith(".gz") else b


def read_csv(data, delimiter=","):
    """(header, [row dict]) by Python's csv module, every row checked to
    have the header's width."""
    return s3_common.read_csv(data, delimiter, same_width=True)


def by(rows, *cols):
    return {tuple(r[c] for c in cols): r for r in rows}


# ---- keys and CSV contents ----

def test_keys_and_csv():
    lake = Lake("csv")
    try:
        lake.put(orders_input(at=True))
        lake.run()
        keys = lake.keys()
        t0, t1 = lake.puts[0]
        tabs = tables_of(keys)
        check(sorted(tabs) == ["orders", "orders__items",
                               "orders__items__tax", "orders__tags"],
              "tables: %s" % keys)
        stamps = {v for lst in tabs.values() for v in lst}
        check(len(keys) == 4 and len(stamps) == 1,
              "one object per table, one version and time: %s" % keys)
        version, ms = stamps.pop() if stamps else (None, 0)
        check(version == 0, "table_version 0 without ACTIVATE_VERSION: %s"
              % version)
        check(t0 <= ms <= t1, "timestamp_loaded %d is the batch's creation "
              "time, within the put (%d..%d)" % (ms, t0, t1))
        check(lake.leftovers() == [], ".dray-tmp empty: %s"
              % lake.leftovers())

        def table(name):
            return read_csv(lake.data("shop/%s/0_%d.csv" % (name, ms)))

        head, rows = table("orders")
        check(head[:6] == ["id", "note", "amount", "at", "cust__name",
                           "cust__addr__city"] and set(head[6:]) == SYS and
              len(head) == 11, "orders header: the data columns in record "
              "order, then the system columns: %s" % head)
        r = by(rows, "id")
        check(sorted(r) == [("1",), ("2",), ("3",)], "orders ids: %s"
              % sorted(r))
        one = r.get(("1",), {})
        check_order_one(one)
        check(one.get("at") == EXTRACTED_UTC and
              one.get("_sdc_extracted_at") == EXTRACTED_UTC,
              "date-times in UTC: %s %s" % (one.get("at"),
                                            one.get("_sdc_extracted_at")))
        seqs = [int(x["_sdc_sequence"]) for x in rows]
        check(len(set(seqs)) == 3 and
              all(x["_sdc_table_version"] == "0" for x in rows),
              "system columns: %s" % rows)
        # NULL is an empty unquoted field, "" a quoted one.
        raw = raw_fields(lake.data("shop/orders/0_%d.csv" % ms))
        rh = [t for t, _ in raw[0]]
        rr = {row[rh.index("id")][0]: dict(zip(rh, row)) for row in raw[1:]}
        check(rr.get("2", {}).get("note") == ("", True),
              "an empty string is \"\": %r" % (rr.get("2", {}).get("note"),))
        check(rr.get("3", {}).get("note") == ("", False) and
              rr.get("2", {}).get("amount") == ("", False),
              "NULL is an empty unquoted field: %r %r"
              % (rr.get("3", {}).get("note"), rr.get("2", {}).get("amount")))
        check(rr.get("3", {}).get("cust__name") == ("", True) and
              rr.get("3", {}).get("cust__addr__city") == ("", False),
              "nested \"\" vs NULL: %r" % rr.get("3"))
        check(len(raw) == 4 and all(len(x) == len(rh) for x in raw),
              "every row has the header's width: %s" % raw)

        check_order_items(table)
        head, rows = table("orders__tags")
        check(set(head) == {"value", "_sdc_source_key_id",
                            "_sdc_level_0_id"} | SUBSYS,
              "arrays of scalars: a value column: %s" % head)
        got = sorted((x["_sdc_source_key_id"], x["_sdc_level_0_id"],
                      x["value"]) for x in rows)
        check(got == [("1", "0", "x"), ("1", "1", "y"), ("3", "0", "z")],
              "orders__tags rows: %s" % got)
    finally:
        lake.close()


def test_late_column_and_mixed_types():
    """A column first seen in a later record of the batch (root and
    subtable): the header has it, earlier rows hold NULL. Values of
    another type than the column's first share its column."""
    props = {"type": "object", "properties": {
        "id": {"type": "integer"},
        "v": {"type": ["null", "string", "integer", "number", "boolean"]},
        "late": {"type": ["null", "string"]},
        "cust": {"type": ["null", "object"], "properties": {
            "name": {"type": ["null", "string"]}}},
        "items": {"type": ["null", "array"], "items": {
            "type": "object", "properties": {
                "sku": {"type": "string"},
                "color": {"type": ["null", "string"]}}}},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}}}}
    recs = [{"id": 1, "v": "text", "items": [{"sku": "a"}], "tags": ["t"]},
            {"id": 2, "v": 12, "items": [{"sku": "b", "color": None}]},
            {"id": 3, "v": True, "late": "here",
             "items": [{"sku": "c", "color": "red"}], "tags": ["u"]},
            {"id": 4, "v": 1.5, "cust": {"name": "Ann"}}]
    lake = Lake("late")
    try:
        lake.put([schema("orders", props)] +
                 [record("orders", x) for x in recs])
        lake.run()
        tabs = tables_of(lake.keys())
        check(sorted(tabs) == ["orders", "orders__items", "orders__tags"] and
              all(len(v) == 1 for v in tabs.values()),
              "one object per table: %s" % lake.keys())
        ms = tabs.get("orders", [(0, 0)])[0][1]
        data = lake.data("shop/orders/0_%d.csv" % ms)
        head, rows = read_csv(data)
        check(head[:2] == ["id", "v"] and set(head[2:-2]) == SYS and
              head[-2:] == ["late", "cust__name"],
              "late columns appended to the header, one v: %s" % head)
        r = by(rows, "id")
        check([r.get((i,), {}).get("v") for i in "1234"] ==
              ["text", "12", "true", "1.5"],
              "mixed types in one column: %s" % rows)
        raw = raw_fields(data)
        rh = [t for t, _ in raw[0]]
        late = {row[rh.index("id")][0]: row[rh.index("late")]
                for row in raw[1:] if "late" in rh}
        check(late == {"1": ("", False), "2": ("", False),
                       "3": ("here", False), "4": ("", False)},
              "earlier rows hold NULL in the late column: %s" % late)
        check(r.get(("4",), {}).get("cust__name") == "Ann" and
              r.get(("1",), {}).get("cust__name") == "",
              "late nested column: %s" % rows)
        check(len(rows) == 4, "each record once: %s" % rows)
        head, rows = read_csv(lake.data("shop/orders__items/0_%d.csv" % ms))
        check(set(head) == {"sku", "color", "_sdc_source_key_id",
                            "_sdc_level_0_id"} | SUBSYS and
              head[-1] == "color", "late subtable column: %s" % head)
        got = sorted((x["_sdc_source_key_id"], x["sku"], x["color"])
                     for x in rows)
        check(got == [("1", "a", ""), ("2", "b", ""), ("3", "c", "red")],
              "orders__items rows: %s" % got)
        head, rows = read_csv(lake.data("shop/orders__tags/0_%d.csv" % ms))
        check(sorted((x["_sdc_source_key_id"], x["value"]) for x in rows) ==
              [("1", "t"), ("3", "u")], "orders__tags rows: %s" % rows)
        check(lake.leftovers() == [], ".dray-tmp empty: %s"
              % lake.leftovers())
    finally:
        lake.close()


def test_delimiters_and_quote_all():
    delims = {"lake": ",", "pipe": "|", "tab": "\t", "tabchar": "\t",
              "quoted": ","}
    lake = Lake("delim", {}, {"pipe": {"delimiter": "|"},
                              "tab": {"delimiter": "tab"},
                              "tabchar": {"delimiter": "\t"},
                              "quoted": {"quote_all": True}})
    try:
        lake.put(quoting_input("orders"))
        lake.run()
        seen = {}
        for d, delim in delims.items():
            keys = lake.keys(d)
            if not check(len(keys) == 1 and parse_key(keys[0]),
                         "%s: one orders object: %s" % (d, keys)):
                continue
            data = seen[d] = lake.data(keys[0], d)
            head, rows = read_csv(data, delim)
            raw = check_quoting_values(d, rows, data, delim)
            rh = [t for t, _ in raw[0]]
            check(rh == head, "%s: tokenizer agrees with csv: %s" % (d, rh))
            if d == "quoted":
                check(len(raw) == len(QUOTING_VALUES) + 1,
                      "quote_all: every row read: %s" % raw)
                check_quote_all(d, raw)
            elif d == "lake":
                check_plain_unquoted(d, raw)
        check(seen.get("tab") is not None and
              seen.get("tab") == seen.get("tabchar"),
              "delimiter 'tab' and a literal tab write the same bytes")
    finally:
        lake.close()


# ---- formats, compression, versions, templates, batches ----

def test_formats_and_gzip():
    lines = [
        json.dumps(schema("orders", ORDERS)),
        '{"type":"RECORD","stream":"orders","time_extracted":"%s","record":'
        '{"id":1,"amount":19.90,"note":"Zo\\u00e9 \\"q\\"\\n",'
        '"cust":{"name":"A","addr":{"city":"B"}},"at":"%s",'
        '"items":[{"sku":"a","qty":123456789012345678901234}],'
        '"tags":["x"]}}' % (EXTRACTED, EXTRACTED),
        '{"type":"RECORD","stream":"orders","time_extracted":"%s","record":'
        '{"id":2,"amount":1e2,"note":null}}' % EXTRACTED,
    ]
    lake = Lake("fmt", {}, {"csvgz": {"compression": "gzip"},
                            "jsonl": {"format": "jsonl"},
                            "jsonlgz": {"format": "jsonl",
                                        "compression": "gzip"}})
    try:
        lake.put(lines)
        lake.run()
        ks = {d: lake.keys(d) for d in ("lake", "csvgz", "jsonl", "jsonlgz")}
        csv_ms = {p[2] for p in map(parse_key, ks["lake"]) if p}
        check(len(ks["lake"]) == 3 and len(csv_ms) == 1,
              "csv: orders, orders__items, orders__tags: %s" % ks["lake"])
        ms = min(csv_ms or {0})
        check(ks["csvgz"] == [k + ".gz" for k in ks["lake"]],
              "gzip csv keys end in .csv.gz: %s" % ks["csvgz"])
        check(ks["jsonl"] == ["shop/orders/0_%d.jsonl" % ms],
              "jsonl: one object for the stream, no subtables: %s"
              % ks["jsonl"])
        check(ks["jsonlgz"] == ["shop/orders/0_%d.jsonl.gz" % ms],
              "gzip jsonl key: %s" % ks["jsonlgz"])
        for plain, gz in (("lake", "csvgz"), ("jsonl", "jsonlgz")):
            for k in ks[plain]:
                if k + ".gz" not in ks[gz]:
                    continue
                b = lake.raw(k + ".gz", gz)
                check(b[:2] == b"\x1f\x8b" and
                      gzip.decompress(b) == lake.raw(k, plain),
                      "%s: gzip decompresses to the plain bytes" % k)
        if not ks["jsonl"]:
            return
        text = lake.raw(ks["jsonl"][0], "jsonl").decode("utf-8")
        check('"amount":19.90' in text and
              "123456789012345678901234" in text and '"amount":1e2' in text,
              "numbers keep their digits: %s" % text)
        docs = [json.loads(x, parse_float=Decimal)
                for x in text.splitlines()]
        want = [json.loads(x, parse_float=Decimal)["record"]
                for x in lines[1:]]
        want[0]["at"] = EXTRACTED_UTC
        check(len(docs) == 2 and
              [{k: v for k, v in d.items() if not k.startswith("_sdc")}
               for d in docs] == want, "records intact: %s" % docs)
        for d in docs:
            check(list(d)[-5:] == JSONL_TAIL and len(d) == len(
                [k for k in d if not k.startswith("_sdc")]) + 5,
                "the five _sdc_* fields at the end: %s" % list(d))
            check(d.get("_sdc_table_version") == 0 and
                  d.get("_sdc_extracted_at") == EXTRACTED_UTC and
                  isinstance(d.get("_sdc_sequence"), int),
                  "system fields: %s" % d)
        # The same records as the CSV object.
        head, rows = read_csv(lake.data("shop/orders/0_%d.csv" % ms))
        check(sorted(x["id"] for x in rows) == ["1", "2"] and
              [x["_sdc_sequence"] for x in rows] ==
              [str(d.get("_sdc_sequence")) for d in docs],
              "csv and jsonl hold the same records: %s" % rows)
    finally:
        lake.close()


def test_table_version():
    simple = {"type": "object", "properties": {
        "id": {"type": "integer"},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}}}}
    lake = Lake("version", {}, {"jsonl": {"format": "jsonl"}})
    try:
        lake.put([schema("orders", simple),
                  {"type": "ACTIVATE_VERSION", "stream": "orders",
                   "version": 42}] +
                 [record("orders", {"id": i, "tags": ["a"]}, version=42)
                  for i in range(3)] +
                 [schema("people", simple),
                  record("people", {"id": 1, "tags": ["b"]})])
        lake.run()
        tabs = tables_of(lake.keys())
        check(sorted(tabs) == ["orders", "orders__tags", "people",
                               "people__tags"],
              "tables: %s" % lake.keys())
        check([v for v, _ in tabs.get("orders", []) +
               tabs.get("orders__tags", [])] == [42, 42] and
              [v for v, _ in tabs.get("people", []) +
               tabs.get("people__tags", [])] == [0, 0],
              "table_version in keys: 42 after ACTIVATE_VERSION, else 0: %s"
              % lake.keys())
        for t, lst in tabs.items():
            if t == "orders" and lst:
                head, rows = read_csv(lake.data("shop/orders/42_%d.csv"
                                                % lst[0][1]))
                check(len(rows) == 3 and all(x["_sdc_table_version"] == "42"
                                             for x in rows),
                      "rows of version 42: %s" % rows)
        jk = lake.keys("jsonl")
        check(len(jk) == 2 and
              parse_key(jk[0], ext="jsonl")[:2] == ("orders", 42) and
              parse_key(jk[1], ext="jsonl")[:2] == ("people", 0),
              "jsonl keys: %s" % jk)
    finally:
        lake.close()


def test_key_template():
    tmpl = ("exports/[year_loaded]-[month_loaded]-[day_loaded]/h[hour_loaded]"
            "/[integration_name].[table_name].v[table_version]."
            "[timestamp_loaded].[csv|jsonl]")
    bare = "[integration_name]/[table_name]/[table_version]/[timestamp_loaded]"
    lake = Lake("tmpl", {"key_template": tmpl},
                {"bare": {"key_template": bare},
                 "barejs": {"key_template": bare, "format": "jsonl",
                            "compression": "gzip"}})
    try:
        lake.put(orders_input(at=True))
        lake.run()
        keys = lake.keys()
        pat = re.compile(r"exports/(\d{4})-(\d\d)-(\d\d)/h(\d\d)/shop\."
                         r"([^/]+)\.v0\.(\d+)\.csv")
        tables = set()
        for k in keys:
            m = pat.fullmatch(k)
            if not check(m, "key %r does not follow the template" % k):
                continue
            tables.add(m.group(5))
            t = datetime.datetime.fromtimestamp(int(m.group(6)) / 1000,
                                                datetime.timezone.utc)
            check(m.group(1, 2, 3, 4) == ("%04d" % t.year, "%02d" % t.month,
                                          "%02d" % t.day, "%02d" % t.hour),
                  "%s: the date parts are the UTC date of %s" % (k, t))
            t0, t1 = lake.puts[0]
            check(t0 <= int(m.group(6)) <= t1, "%s: timestamp in the put" % k)
        check(tables == {"orders", "orders__items", "orders__items__tax",
                         "orders__tags"}, "tables: %s" % keys)
        bk = lake.keys("bare")
        check(len(bk) == 4 and all(re.fullmatch(r"shop/[^/]+/0/\d+\.csv", k)
                                   for k in bk),
              "a template without [csv|jsonl] gets the extension: %s" % bk)
        jk = lake.keys("barejs")
        check(len(jk) == 1 and re.fullmatch(r"shop/orders/0/\d+\.jsonl\.gz",
                                            jk[0] if jk else ""),
              "... .jsonl.gz for gzip JSON lines: %s" % jk)
    finally:
        lake.close()


def test_several_batches():
    lake = Lake("batches", batch={"max_records": 3})
    try:
        lake.put([schema("orders", ORDERS)] +
                 [record("orders", {"id": i, "items": [{"sku": "s%d" % i}]})
                  for i in range(10)])
        lake.run()
        tabs = tables_of(lake.keys())
        check(sorted(tabs) == ["orders", "orders__items"],
              "tables: %s" % lake.keys())
        stamps = sorted(ms for _, ms in tabs.get("orders", []))
        check(len(stamps) == 4 and len(set(stamps)) == 4,
              "four batches, four objects with distinct times: %s" % stamps)
        check(sorted(ms for _, ms in tabs.get("orders__items", [])) ==
              stamps, "one orders__items object per batch: %s"
              % lake.keys())
        ids = []
        for ms in stamps:
            head, rows = read_csv(lake.data("shop/orders/0_%d.csv" % ms))
            ids.append([int(x["id"]) for x in rows])
            head, sub = read_csv(lake.data("shop/orders__items/0_%d.csv"
                                           % ms))
            check(sorted(x["_sdc_source_key_id"] for x in sub) ==
                  sorted(x["id"] for x in rows),
                  "subtable rows with their batch: %s" % sub)
        check(ids == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]],
              "times increase with the batches: %s" % ids)
    finally:
        lake.close()


# ---- rejects ----

def test_rejects():
    """A record without its key property (rejected by the gate) and one
    with a field named _sdc_x (rejected by the plugin; it comes before a
    late column, so the second pass must skip it too)."""
    lake = Lake("rejects", {"compression": "gzip"},
                spool={"keep_loaded": "1h"})
    bad1 = {"note": "no key"}
    bad2 = {"id": 5, "_sdc_x": 1, "items": [{"sku": "bad"}]}
    try:
        lake.put([schema("orders", ORDERS),
                  record("orders", {"id": 1, "items": [{"sku": "a"}]}),
                  record("orders", bad1), record("orders", bad2),
                  record("orders", {"id": 6, "note": "late",
                                    "items": [{"sku": "b", "qty": 1}]})])
        p = lake.run()
        check(re.search(r"\b2 rejected\b", p.stderr),
              "the run summary counts 2 rejects: %s" % p.stderr)
        keys = lake.keys()
        bids = lake.batch_ids()
        check(len(bids) == 1, "one batch kept: %s" % bids)
        tabs = tables_of([k for k in keys if k.endswith(".csv.gz")],
                         ext="csv.gz")
        ms = tabs.get("orders", [(0, 0)])[0][1]
        rej = "shop/_sdc_rejected/%d_%s.jsonl" % (ms, bids[0] if bids
                                                  else "?")
        check(sorted(keys) == sorted(["shop/orders/0_%d.csv.gz" % ms,
                                      "shop/orders__items/0_%d.csv.gz" % ms,
                                      rej]),
              "rejects in %s, plain JSON lines even with gzip: %s"
              % (rej, keys))
        if rej in keys:
            docs = [json.loads(x) for x in lake.raw(rej).splitlines()]
            got = sorted((d.get("table_name"), json.dumps(d.get("record"),
                                                          sort_keys=True))
                         for d in docs)
            check(got == sorted([("orders", json.dumps(bad1, sort_keys=True)),
                                 ("orders", json.dumps(bad2,
                                                       sort_keys=True))]),
                  "rejected records as they came: %s" % docs)
            for d in docs:
                check(set(d) == {"_sdc_rejected_at", "table_name", "reason",
                                 "record"} and d.get("reason") and
                      re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z",
                                   d.get("_sdc_rejected_at", "")),
                      "a reject line's fields: %s" % d)
                want = "_sdc_x" if "_sdc_x" in d.get("record", {}) else "id"
                check(want in d.get("reason", ""), "the reason names %s: %s"
                      % (want, d.get("reason")))
        head, rows = read_csv(lake.data("shop/orders/0_%d.csv.gz" % ms))
        check(sorted(x["id"] for x in rows) == ["1", "6"] and
              "note" in head, "the rest loads: %s %s" % (head, rows))
        head, rows = read_csv(lake.data("shop/orders__items/0_%d.csv.gz"
                                        % ms))
        check(sorted(x["sku"] for x in rows) == ["a", "b"],
              "no subtable rows of a rejected record: %s" % rows)
        st = lake.status().get("lake", {})
        check(st.get("rows_rejected") == 2 and st.get("loaded") == 1,
              "dray status counts the rejects: %s" % st)
    finally:
        lake.close()


def test_max_rejects():
    lake = Lake("maxrej", {"max_rejects": 1})
    try:
        lake.put([schema("orders", ORDERS),
                  record("orders", {"id": 1, "items": [{"sku": "a"}]}),
                  record("orders", {"id": 2, "_sdc_a": 1}),
                  record("orders", {"id": 3, "_sdc_b": 1})])
        lake.run(expect_exit=4, what="max_rejects")
        q = json.loads(lake.dray("status", "--json", "-c",
                                 lake.cfg).stdout)["quarantined"]
        check(len(q) == 1 and "max_rejects" in q[0].get("reason", ""),
              "quarantined for max_rejects: %s" % q)
        check(lake.keys() == [] and lake.leftovers() == [],
              "a failed batch leaves no object: %s %s"
              % (lake.keys(), lake.leftovers()))
    finally:
        lake.close()


# ---- loaded again ----

def snapshot(lake, dest="lake"):
    return {k: lake.raw(k, dest) for k in lake.keys(dest)}


def test_loaded_again():
    """The same batches loaded again (acks removed) write the same keys
    with the same bytes: no duplicates."""
    lake = Lake("again", {}, {"gz": {"compression": "gzip"},
                              "js": {"format": "jsonl"}},
                batch={"max_records": 2}, spool={"keep_loaded": "1h"})
    try:
        lake.put(orders_input(at=True) +
                 [record("orders", {"id": 9, "_sdc_q": 1})])
        lake.run()
        first = {d: snapshot(lake, d) for d in ("lake", "gz", "js")}
        check(len(first["lake"]) > 4 and len(first["js"]) == 3,
              "loaded: %s" % {d: sorted(s) for d, s in first.items()})
        for d in first:
            lake.forget_acks(d)
        p = lake.run()
        check(p.stderr.count("2 batches loaded") == 3,
              "every destination loaded both batches again: %s" % p.stderr)
        for d, before in first.items():
            check_same_objects(d, before, snapshot(lake, d))
            check(lake.leftovers(d) == [], "%s: .dray-tmp empty" % d)
    finally:
        lake.close()


# ---- killed mid-load ----

BIG = 200000
SWEPT = "left by a load that did not finish"


def kill_check(lake, tables, what):
    """Every object visible is whole: the batch's rows, all of them."""
    for k in lake.keys():
        p = parse_key(k)
        want = tables.get(p[0]) if p else None
        if not check(want is not None, "%s: unexpected key %s" % (what, k)):
            continue
        with open(os.path.join(lake.out(), k), newline="",
                  encoding="utf-8") as f:
            rows = list(csv.reader(f))
        n, head = len(rows) - 1, rows[0] if rows else []
        check(n == want[0] and all(len(r) == len(head) for r in rows),
              "%s: %s is whole: %d rows of %d" % (what, k, n, want[0]))
        if p[0] == "orders" and n == want[0]:
            i = head.index("id")
            check(sorted(int(r[i]) for r in rows[1:]) == list(range(BIG)),
                  "%s: %s holds each record once" % (what, k))


def test_killed_mid_load():
    """SIGKILL of the worker or of the whole `dray run` at several points
    of a big batch's load, each followed by a run to the end: objects are
    whole or absent, one per table, and no temp file is left over."""
    lake = Lake("kill", spool={"keep_loaded": "1h"})
    props = {"type": "object", "properties": {
        "id": {"type": "integer"}, "note": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "sku": {"type": "string"}, "q": {"type": "integer"}}}}}}
    # Rows of each table when whole.
    tables = {"orders": (BIG,), "orders__items": (2 * BIG,)}
    rng = random.Random(os.environ.get("SEED", "s3-kill"))
    # Info lines say which temp files an instance removed at its start.
    os.environ["DRAY_LOG_LEVEL"] = "info"
    tmpdir = os.path.join(lake.out(), ".dray-tmp")

    def parts():
        try:
            return [os.path.getsize(os.path.join(tmpdir, f))
                    for f in os.listdir(tmpdir)]
        except FileNotFoundError:
            return []

    def committed():
        return lake.keys()

    try:
        lake.put([schema("orders", props)] +
                 ['{"type":"RECORD","stream":"orders","record":{"id":%d,'
                  '"note":"order %d, some text","items":[{"sku":"s%d","q":1},'
                  '{"sku":"t","q":2}]}}' % (i, i, i) for i in range(BIG)])
        bid = lake.batch_ids()
        acked = os.path.join(lake.spool, "dest", "lake", "acked", bid[0])
        # (name, what to wait for, whom to kill)
        points = [
            ("worker mid-encoding", lambda: any(s > 1 << 20 for s in parts()),
             "worker"),
            ("run mid-encoding", lambda: any(s > 1 << 20 for s in parts()),
             "run"),
            ("run at the first commit", committed, "run"),
            ("worker at the first commit", committed, "worker"),
            ("run at a random time", None, "run"),
        ]
        hits, sweeps, keyset = 0, 0, None
        for name, cond, whom in points:
            t0 = time.monotonic()
            shutil.rmtree(os.path.join(lake.out(), "shop"),
                          ignore_errors=True)
            if os.path.exists(acked):
                lake.forget_acks()
            p = subprocess.Popen([DRAY, "run", "--once", "-c", lake.cfg],
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True,
                                 env=lake.env(), start_new_session=True)
            try:
                if cond is None:
                    wait_for(lambda: workers(p.pid), 30)
                    time.sleep(rng.uniform(0, 0.4) * SLOW)
                else:
                    wait_for(cond, 60, step=0.001)
                if whom == "worker":
                    for w in workers(p.pid):
                        os.kill(w, signal.SIGKILL)
                    err = p.communicate(timeout=120 * SLOW)[1]
                    check(p.returncode == 0, "%s: the run goes on and "
                          "loads: exit %s %s" % (name, p.returncode, err))
                    # The next worker's instance removes what the killed
                    # one left (when the kill came before its commit).
                    sweeps += SWEPT in err
                else:
                    stop(p)
                    hit = not os.path.exists(acked)
                    hits += hit
                    left = lake.leftovers()
                    kill_check(lake, tables, name + ", killed")
                    err = lake.run(what=name + ", run again").stderr
                    sweeps += SWEPT in err
                    check(all(f in err for f in left), "%s: the next run "
                          "says it removed %s: %s" % (name, left, err))
                    print("%s: %s, %d temp files left" % (
                        name, "killed mid-load" if hit else
                        "the load had ended", len(left)), flush=True)
            finally:
                if p.poll() is None:
                    stop(p)
            kill_check(lake, tables, name)
            keys = lake.keys()
            check(sorted(tables_of(keys)) == sorted(tables) and
                  len(keys) == len(tables),
                  "%s: one object per table: %s" % (name, keys))
            check(keyset is None or keys == keyset,
                  "%s: the same keys on every attempt: %s" % (name, keys))
            keyset = keyset or keys
            check(lake.leftovers() == [], "%s: .dray-tmp empty after the "
                  "run: %s" % (name, lake.leftovers()))
            print("%s: %.1f s" % (name, time.monotonic() - t0), flush=True)
        check(hits >= 1, "at least one kill of the whole run came mid-load")
        check(sweeps >= 1, "at least one run removed a killed load's temp "
              "files")
    finally:
        os.environ.pop("DRAY_LOG_LEVEL", None)
        lake.close()


# ---- folders dray may not write ----

def lock_folder(path):
    """Makes a folder unwritable: chmod 0555, or, for root (whom modes do
    not stop), the immutable attribute. Returns how to undo it, or None
    when neither stops a write here."""
    probe = os.path.join(path, ".probe")
    os.chmod(path, 0o555)
    try:
        open(probe, "w").close()
        os.unlink(probe)
    except OSError:
        return lambda: os.chmod(path, 0o755)
    os.chmod(path, 0o755)
    if shutil.which("chattr") and subprocess.run(
            ["chattr", "+i", path], capture_output=True).returncode == 0:
        try:
            open(probe, "w").close()
            os.unlink(probe)
        except OSError:
            return lambda: subprocess.run(["chattr", "-i", path])
        subprocess.run(["chattr", "-i", path])
    return None


def test_read_only_folder():
    """The url's folder, or a table's folder under it, unwritable: the
    batch fails with an error that names the folder and the option,
    nothing half-written (the tables committed before the failing one are
    removed again); writable again and requeued, it loads."""
    for where in ("out", "out/shop/orders__items"):
        lake = Lake("ro")
        undo = None
        try:
            folder = os.path.join(lake.tmp, where)
            os.makedirs(folder)
            undo = lock_folder(folder)
            if undo is None:
                print("read-only folder: skipped (neither chmod nor chattr "
                      "stops writes here)")
                return
            lake.put(orders_input(at=True))
            lake.run(expect_exit=4, what="read-only " + where)
            q = json.loads(lake.dray("status", "--json", "-c",
                                     lake.cfg).stdout)["quarantined"]
            reason = q[0].get("reason", "") if q else ""
            check(len(q) == 1 and "E_CONFIG" in reason and
                  folder in reason and "\n" not in reason and
                  re.search("Permission denied|Operation not permitted",
                            reason),
                  "%s: quarantined at once, with a clear reason: %s"
                  % (where, reason))
            check(lake.keys() == [], "%s: nothing written: %s"
                  % (where, lake.keys()))
            check(lake.leftovers() == [], "%s: no temp file left: %s"
                  % (where, lake.leftovers()))
            undo()
            undo = None
            p = lake.dray("requeue", "--all", "-c", lake.cfg)
            check(p.returncode == 0, "requeue: %s" % p.stderr)
            lake.run(what="writable again " + where)
            check(len(lake.keys()) == 4, "%s: loaded after the requeue: %s"
                  % (where, lake.keys()))
        finally:
            if undo:
                undo()
            lake.close()


def test_folder_is_a_file():
    lake = Lake("notdir")
    try:
        open(lake.out(), "w").close()
        lake.put(orders_input(at=True))
        # Not the batch's fault: the destination cannot start, the batch
        # waits (docs/RUNTIME.md).
        p = lake.run(expect_exit=1, what="url names a file")
        check(lake.out() in p.stderr and "Not a directory" in p.stderr and
              "'url'" in p.stderr,
              "the error names the folder and the option: %s" % p.stderr)
        check(lake.status().get("lake", {}).get("pending") == 1,
              "the batch stays pending")
    finally:
        lake.close()


TESTS = [test_keys_and_csv, test_late_column_and_mixed_types,
         test_delimiters_and_quote_all, test_formats_and_gzip,
         test_table_version, test_key_template, test_several_batches,
         test_rejects, test_max_rejects, test_loaded_again,
         test_killed_mid_load, test_read_only_folder, test_folder_is_a_file]


def main():
    require_plugin()
    run_tests(TESTS)


if __name__ == "__main__":
    main()
