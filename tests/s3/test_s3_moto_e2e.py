#!/usr/bin/env python3
"""The S3 destination end to end into moto (a fake S3): `dray put`, then
`dray run --once`, then the bucket read back with boto3.

    test_s3_moto_e2e.py DRAY PLUGIN_DIR        (PLUGIN_DIR holds s3.so)

One moto_server for the script, a bucket per test. What is asserted is
what docs/S3.md promises: keys (<prefix>/shop/<table>/<version>_<ms>.csv,
names with spaces and non-ASCII letters intact), CSV flattened with
subtables, each delimiter and quote_all, JSON lines with the records as
they came, gzip, rejects under shop/_sdc_rejected/, virtual-hosted
addressing, that a batch offered again overwrites its own objects, and
the CRC32 checksum S3 keeps with each object (none with checksum: none).
Exits 77 without moto_server or boto3. ONLY=word runs the tests whose
name holds it.
"""
import base64
import gzip
import json
import os
import re
import sys
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_moto_util import (  # noqa: E402
    EXTRACTED, EXTRACTED_UTC, FLAT, JSONL_TAIL, SYS, Lake, check,
    check_order_items, check_order_one, check_plain_unquoted,
    check_quote_all, check_quoting_values, check_same_objects, get,
    list_keys, main_with_moto, orders_input, orders_schema, parse_key,
    quoting_input, raw_fields, read_csv, record, s3_opts, schema, tables_of)
from fault_proxy import FaultProxy  # noqa: E402
from s3_server import MotoServer  # noqa: E402
import s3_util  # noqa: E402

ODD = "B\u00fccher & Co"  # a stream name kept as it is in keys
ORDERS = orders_schema()

M = None  # the moto server
BUCKETS = iter(range(1, 1000))


def bucket():
    """A fresh bucket and a boto3 client for it."""
    c = s3_util.client(M.endpoint)
    return c, s3_util.make_bucket(c, "e2e-%d" % next(BUCKETS))


def by_id(rows, col="id"):
    return {r[col]: r for r in rows}


# ---- CSV: keys, flattening, subtables ----

def test_csv_flat_and_nested():
    c, b = bucket()
    pre = "lake/raw"
    lake = Lake("csv", {"lake": s3_opts(M.endpoint, b, pre)})
    try:
        lake.put(orders_input() +
                 [schema("users", FLAT)] +
                 [record("users", {"id": i, "s": "u%d" % i, "n": i})
                  for i in range(3)] +
                 [schema(ODD, FLAT), record(ODD, {"id": 7, "s": "\u00fc",
                                                  "n": None})])
        lake.put([schema("users", FLAT),
                  record("users", {"id": 9, "s": "later", "n": 9})])
        lake.run()
        keys = list_keys(c, b)
        tabs = tables_of(keys, pre)
        check(sorted(tabs) == sorted(["orders", "orders__items",
                                      "orders__items__tax", "orders__tags",
                                      "users", ODD]),
              "tables: %s" % keys)
        check(len(keys) == 7 and len(tabs.get("users", [])) == 2,
              "one object per table per batch (users: two batches): %s"
              % keys)
        t0, t1 = lake.puts[0]
        stamps = {v for t, lst in tabs.items() if t.startswith("orders")
                  for v in lst}
        version, ms = stamps.pop() if len(stamps) == 1 else (None, 0)
        check(version == 0, "one table_version 0 and one time for the "
              "orders batch: %s" % keys)
        check(t0 <= ms <= t1, "timestamp_loaded %d is the batch's creation "
              "time, within the put (%d..%d)" % (ms, t0, t1))
        u = sorted(ms for _, ms in tabs.get("users", []))
        check(len(u) == 2 and u[0] < u[1] and
              lake.puts[1][0] <= u[1] <= lake.puts[1][1],
              "the second users batch has a later key: %s" % u)
        key = "%s/shop/%%s/0_%d.csv" % (pre, ms)

        head, rows = read_csv(get(c, b, key % "orders"))
        check(head[:5] == ["id", "note", "amount", "cust__name",
                           "cust__addr__city"] and set(head[5:]) == SYS and
              len(head) == 10, "orders header: the data columns in record "
              "order, then the system columns: %s" % head)
        r = by_id(rows)
        check(sorted(r) == ["1", "2", "3"], "orders ids: %s" % sorted(r))
        one = r.get("1", {})
        check_order_one(one)
        check(one.get("_sdc_extracted_at") == EXTRACTED_UTC and
              all(x.get("_sdc_table_version") == "0" for x in rows),
              "system columns: %s" % rows)
        raw = raw_fields(get(c, b, key % "orders"))
        rh = [t for t, _ in raw[0]]
        rr = {row[0][0]: dict(zip(rh, row)) for row in raw[1:]}
        check(rr.get("2", {}).get("note") == ("", True) and
              rr.get("3", {}).get("note") == ("", False),
              "\"\" is an empty string, an empty unquoted field NULL: %r %r"
              % (rr.get("2", {}).get("note"), rr.get("3", {}).get("note")))

        check_order_items(lambda t: read_csv(get(c, b, key % t)))
        head, rows = read_csv(get(c, b, key % "orders__tags"))
        got = sorted((x["_sdc_source_key_id"], x["_sdc_level_0_id"],
                      x["value"]) for x in rows)
        check("value" in head and got == [("1", "0", "x"), ("1", "1", "y"),
                                          ("3", "0", "z")],
              "an array of scalars: a value column: %s %s" % (head, got))

        odd = [k for k in keys if "/shop/%s/" % ODD in k]
        head, rows = read_csv(get(c, b, odd[0])) if odd else ([], [])
        check([(x["id"], x["s"]) for x in rows] == [("7", "\u00fc")],
              "a stream name with a space, '&' and a non-ASCII letter "
              "keeps them in its key: %s %s" % (odd, rows))
        head, rows = read_csv(get(c, b, "%s/shop/users/0_%d.csv"
                                  % (pre, u[0]))) if u else ([], [])
        check(sorted((x["id"], x["s"], x["n"]) for x in rows) ==
              [("0", "u0", "0"), ("1", "u1", "1"), ("2", "u2", "2")],
              "a flat stream: %s" % rows)
        check(s3_util.uploads_in_progress(c, b) == [],
              "no multipart upload left")
    finally:
        lake.close()


def test_subtable_appears_late():
    """A subtable whose first row comes after thousands of rows of the
    root were written (its object open and buffering): both objects
    whole. (The tables' objects once moved in memory when a table was
    added, under the open root's encoder.)"""
    c, b = bucket()
    props = {"type": "object", "properties": {
        "id": {"type": "integer"},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}}}}
    lake = Lake("latesub", {"lake": s3_opts(M.endpoint, b, "p"),
                            "gz": s3_opts(M.endpoint, b, "gz",
                                          compression="gzip")})
    try:
        lake.put([schema("o", props)] +
                 [record("o", {"id": i}) for i in range(3000)] +
                 [record("o", {"id": 3000, "tags": ["a", "b"]})] +
                 [record("o", {"id": i}) for i in range(3001, 6000)])
        lake.run()
        for d, ext in (("p", "csv"), ("gz", "csv.gz")):
            keys = list_keys(c, b, d + "/")
            tabs = tables_of(keys, d, ext)
            check(sorted(tabs) == ["o", "o__tags"], "%s: tables: %s"
                  % (d, keys))
            for k in keys:
                head, rows = read_csv(get(c, b, k))
                if "/o/" in k:
                    check([x["id"] for x in rows] ==
                          [str(i) for i in range(6000)],
                          "%s: every root row once, in order" % k)
                else:
                    check([(x["_sdc_source_key_id"], x["value"])
                           for x in rows] == [("3000", "a"), ("3000", "b")],
                          "%s: the subtable's rows: %s" % (k, rows))
    finally:
        lake.close()


def test_delimiters_and_quote_all():
    c, b = bucket()
    delims = {"comma": ",", "pipe": "|", "tab": "\t", "quoted": ","}
    lake = Lake("delim", {
        "comma": s3_opts(M.endpoint, b, "comma"),
        "pipe": s3_opts(M.endpoint, b, "pipe", delimiter="|"),
        "tab": s3_opts(M.endpoint, b, "tab", delimiter="tab"),
        "quoted": s3_opts(M.endpoint, b, "quoted", quote_all=True)})
    try:
        lake.put(quoting_input("rows"))
        lake.run()
        for d, delim in delims.items():
            keys = list_keys(c, b, d + "/")
            if not check(len(keys) == 1 and parse_key(keys[0], d),
                         "%s: one object: %s" % (d, keys)):
                continue
            data = get(c, b, keys[0])
            head, rows = read_csv(data, delim)
            raw = check_quoting_values(d, rows, data, delim)
            rh = [t for t, _ in raw[0]]
            check(rh == head and all(len(x) == len(rh) for x in raw),
                  "%s: every row has the header's width: %s" % (d, raw))
            if d == "quoted":
                check_quote_all(d, raw)
            else:
                check_plain_unquoted(d, raw)
                if delim != ",":
                    check(b"," not in data.split(b"\n")[0],
                          "%s: the header uses the delimiter: %r"
                          % (d, data.split(b"\n")[0]))
    finally:
        lake.close()


# ---- JSON lines and gzip ----

def test_jsonl_and_gzip():
    """Numbers keep their digits in JSON lines, date-times go to UTC, the
    system fields come last; gzip objects end in .gz and hold the same."""
    c, b = bucket()
    lines = [
        json.dumps(schema("orders", ORDERS)),
        '{"type":"RECORD","stream":"orders","time_extracted":"%s","record":'
        '{"id":1,"amount":19.90,"note":"Zo\\u00e9 \\"q\\"\\n\\u6771",'
        '"cust":{"name":"A","addr":{"city":"B"}},'
        '"items":[{"sku":"a","qty":123456789012345678901234}],'
        '"tags":["x"]}}' % EXTRACTED,
        '{"type":"RECORD","stream":"orders","time_extracted":"%s","record":'
        '{"id":2,"amount":1e2,"note":null}}' % EXTRACTED,
    ]
    lake = Lake("jsonl", {
        "js": s3_opts(M.endpoint, b, "js", format="jsonl"),
        "jsgz": s3_opts(M.endpoint, b, "jsgz", format="jsonl",
                        compression="gzip"),
        "csvgz": s3_opts(M.endpoint, b, "csvgz", compression="gzip")})
    try:
        lake.put(lines)
        lake.run()
        docs = {}
        for d, ext in (("js", "jsonl"), ("jsgz", "jsonl.gz")):
            keys = list_keys(c, b, d + "/")
            if not check(len(keys) == 1 and parse_key(keys[0], d, ext) and
                         parse_key(keys[0], d, ext)[0] == "orders",
                         "%s: one object, a .%s key, for the stream (no "
                         "subtables): %s" % (d, ext, keys)):
                continue
            raw = s3_util.read_object(c, b, keys[0])
            if ext.endswith(".gz"):
                check(raw[:2] == b"\x1f\x8b", "%s: gzip bytes" % d)
                raw = gzip.decompress(raw)
            docs[d] = raw
            text = raw.decode("utf-8")
            check(text.endswith("\n") and text.count("\n") == 2,
                  "%s: one line a record: %r" % (d, text))
            recs = [json.loads(x) for x in text.splitlines()]
            check([list(x)[-5:] for x in recs] == [JSONL_TAIL] * 2,
                  "%s: the system fields at the end: %s" % (d, recs))
            one = recs[0] if recs else {}
            check(one.get("note") == "Zo\u00e9 \"q\"\n\u6771" and
                  one.get("cust") == {"name": "A", "addr": {"city": "B"}} and
                  one.get("tags") == ["x"] and
                  one.get("_sdc_extracted_at") == EXTRACTED_UTC,
                  "%s: the record as it came: %s" % (d, one))
            check('"amount":19.90' in text and
                  '"qty":123456789012345678901234' in text and
                  '"amount":1e2' in text,
                  "%s: numbers keep their digits: %s" % (d, text))
            check(recs[1].get("note", 1) is None if len(recs) > 1 else False,
                  "%s: null stays null" % d)
        check(docs.get("js") is not None and docs.get("js") == docs.get(
            "jsgz"), "gzip holds the same bytes as the plain object")
        keys = list_keys(c, b, "csvgz/")
        tabs = tables_of(keys, "csvgz", "csv.gz")
        check(sorted(tabs) == ["orders", "orders__items", "orders__tags"],
              "CSV with gzip: one .csv.gz a table: %s" % keys)
        k = [x for x in keys if "/orders/" in x]
        if k:
            check(s3_util.read_object(c, b, k[0])[:2] == b"\x1f\x8b",
                  "csv.gz is gzip")
            head, rows = read_csv(get(c, b, k[0]))
            check(sorted(x["id"] for x in rows) == ["1", "2"] and
                  by_id(rows).get("1", {}).get("amount") == "19.90",
                  "CSV keeps the number's digits too: %s" % rows)
    finally:
        lake.close()


# ---- checksums ----

def test_checksums():
    """Every object carries S3's CRC32 of its bytes (checksum: crc32, the
    default); with checksum: none, none."""
    c, b = bucket()
    lake = Lake("crc", {"crc": s3_opts(M.endpoint, b, "crc"),
                        "plain": s3_opts(M.endpoint, b, "plain",
                                         checksum="none")})
    try:
        lake.put(orders_input())
        lake.run()
        for d, want in (("crc", True), ("plain", False)):
            keys = list_keys(c, b, d + "/")
            check(len(keys) == 4, "%s: four tables: %s" % (d, keys))
            for k in keys:
                h = c.head_object(Bucket=b, Key=k, ChecksumMode="ENABLED")
                crc = base64.b64encode(zlib.crc32(
                    s3_util.read_object(c, b, k)).to_bytes(4, "big")).decode()
                check(h.get("ChecksumCRC32") == (crc if want else None),
                      "%s: the CRC32 kept with %s: %s, the bytes' %s"
                      % (d, k, h.get("ChecksumCRC32"), crc))
    finally:
        lake.close()


# ---- addressing ----

def test_virtual_hosted():
    """path_style false: requests go to bucket.HOST with keys in the path.
    The SDK's client reaches moto that way at http://localhost:PORT
    (libcurl resolves *.localhost to the loopback, as tests/s3/
    s3_client.py's addressing case relies on); a proxy in between shows
    the Host of every request."""
    c, b = bucket()
    with FaultProxy(M.endpoint) as proxy:
        ep = "http://localhost:%d" % proxy.port
        lake = Lake("vhost", {"lake": s3_opts(ep, b, "vh", path_style=False),
                              "path": s3_opts(proxy.endpoint, b, "ps")})
        try:
            lake.put(orders_input())
            lake.run()
            log = proxy.log()
            vh = [e for e in log if e["host"] == "%s.localhost:%d"
                  % (b, proxy.port)]
            ps = [e for e in log if e["host"] == "127.0.0.1:%d" % proxy.port]
            check(vh and ps and len(vh) + len(ps) == len(log),
                  "every request virtual-hosted or path style: %s"
                  % [(e["host"], e["path"]) for e in log])
            check(all(e["path"].startswith("/vh/") for e in vh if
                      e["method"] == "PUT") and
                  all(e["path"].startswith("/%s/ps/" % b) for e in ps
                      if e["method"] == "PUT"),
                  "virtual-hosted paths hold the key alone, path style "
                  "the bucket first: %s" % [(e["host"], e["path"])
                                            for e in log])
            a = sorted(k[3:] for k in list_keys(c, b, "vh/"))
            p = sorted(k[3:] for k in list_keys(c, b, "ps/"))
            check(len(a) == 4 and a == p,
                  "the same objects both ways: %s %s" % (a, p))
            for k in a:
                check(get(c, b, "vh/" + k) == get(c, b, "ps/" + k),
                      "%s: the same bytes both ways" % k)
        finally:
            lake.close()


# ---- rejects ----

def test_rejects():
    c, b = bucket()
    lake = Lake("rej", {"lake": s3_opts(M.endpoint, b, "r")},
                spool={"keep_loaded": "1h"})
    bad = {"id": 2, "_sdc_x": 1}
    try:
        lake.put(orders_input()[:2] + [record("orders", bad)])
        lake.run()
        keys = list_keys(c, b)
        bid = lake.batch_ids()
        rej = [k for k in keys if k.startswith("r/shop/_sdc_rejected/")]
        ms = [p[2] for p in map(lambda k: parse_key(k, "r"), keys) if p]
        want = ("r/shop/_sdc_rejected/%d_%s.jsonl" % (ms[0], bid[0])
                if ms and len(bid) == 1 else None)
        check(rej == [want], "the rejects object %s: %s" % (want, keys))
        if rej:
            docs = [json.loads(x) for x in
                    s3_util.read_object(c, b, rej[0]).splitlines()]
            d = docs[0] if len(docs) == 1 else {}
            check(set(d) == {"_sdc_rejected_at", "table_name", "reason",
                             "record"} and d.get("table_name") == "orders" and
                  d.get("record") == bad and "_sdc_x" in d.get("reason", "")
                  and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z",
                                   d.get("_sdc_rejected_at", "")),
                  "one reject line, the record as it came: %s" % docs)
        okeys = [k for k in keys if "/orders/" in k]
        head, rows = read_csv(get(c, b, okeys[0])) if okeys else ([], [])
        check([x["id"] for x in rows] == ["1"], "the rest loads: %s" % rows)
        st = lake.dest_status()
        check(st.get("rows_rejected") == 1 and st.get("loaded") == 1,
              "dray status counts the reject: %s" % st)
    finally:
        lake.close()


# ---- offered again ----

def snapshot(c, b, prefix):
    return {k: s3_util.read_object(c, b, k) for k in list_keys(c, b, prefix)}


def test_offered_again():
    """The same batches offered again (acks removed): the same keys with
    the same bytes; no object added."""
    c, b = bucket()
    lake = Lake("again", {
        "lake": s3_opts(M.endpoint, b, "csv"),
        "js": s3_opts(M.endpoint, b, "js", format="jsonl",
                      compression="gzip")},
        batch={"max_records": 2}, spool={"keep_loaded": "1h"})
    try:
        lake.put(orders_input() + [record("orders", {"id": 9, "_sdc_q": 1})])
        lake.run()
        first = {d: snapshot(c, b, d + "/") for d in ("csv", "js")}
        check(len(first["csv"]) > 5 and len(first["js"]) == 3,
              "loaded: %s" % {d: sorted(s) for d, s in first.items()})
        lake.forget_acks("lake")
        lake.forget_acks("js")
        p = lake.run(what="offered again")
        check(p.stderr.count("2 batches loaded") == 2,
              "both destinations loaded both batches again: %s" % p.stderr)
        for d, before in first.items():
            check_same_objects(d, before, snapshot(c, b, d + "/"))
    finally:
        lake.close()


TESTS = [test_csv_flat_and_nested, test_subtable_appears_late,
         test_delimiters_and_quote_all,
         test_jsonl_and_gzip, test_checksums, test_virtual_hosted,
         test_rejects,
         test_offered_again]


if __name__ == "__main__":
    M = MotoServer()
    main_with_moto(M, TESTS)
