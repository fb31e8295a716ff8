#!/usr/bin/env python3
"""The S3 destination under faults: moto behind tests/s3/fault_proxy.py,
which answers chosen requests with S3 errors, resets connections or
answers CompleteMultipartUpload 200 with an <Error> body.

    test_s3_moto_faults.py DRAY PLUGIN_DIR      (PLUGIN_DIR holds s3.so)

Transient faults inside a ~60 MB multipart load are retried and the
object comes out whole (row count and a digest of its data columns
against the input, its bytes against the same batch written to a local
folder by a second destination that saw no faults); faults that persist
fail the batch (retryably, then quarantined; or at once for a
configuration error) and leave no object and no upload in progress; a
column that first appears late makes a table be written again, and the
first pass's upload is aborted. docs/S3.md "Writing objects" and
"Errors". Exits 77 without moto_server or boto3. ONLY=word runs the tests
whose name holds it.
"""
import json
import math
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_moto_util import (MIB, Lake, big_stream,  # noqa: E402
                          check, csv_digest, get, list_keys, main_with_moto,
                          parse_key, read_csv, s3_opts, sha256)
from fault_proxy import FaultProxy  # noqa: E402
from s3_server import MotoServer  # noqa: E402
import s3_util  # noqa: E402

M = None
PART = 5 * MIB
BUCKETS = iter(range(1, 1000))


def bucket():
    c = s3_util.client(M.endpoint)
    return c, s3_util.make_bucket(c, "faults-%d" % next(BUCKETS))


def folder_file(lake, key):
    with open(os.path.join(lake.tmp, "twin", key), "rb") as f:
        return f.read()


def requests(log, kind, key=None):
    """The proxy's log entries of one S3 operation (of one key)."""
    def q(e):
        return dict(p.split("=", 1) if "=" in p else (p, "")
                    for p in e["query"].split("&") if p)

    def is_kind(e):
        qs = q(e)
        m = e["method"]
        if kind == "part":
            return m == "PUT" and "partNumber" in qs
        if kind == "put":
            return m == "PUT" and "partNumber" not in qs
        if kind == "create":
            return m == "POST" and "uploads" in qs
        if kind == "complete":
            return m == "POST" and "uploadId" in qs
        if kind == "abort":
            return m == "DELETE" and "uploadId" in qs
        if kind == "list_uploads":
            return m == "GET" and "uploads" in qs
        return False
    return [dict(e, q=q(e)) for e in log if is_kind(e) and
            (key is None or e["path"].endswith("/" + key))]


def small_stream(stream, n):
    return [json.dumps({"type": "SCHEMA", "stream": stream,
                        "key_properties": ["id"], "schema": {
                            "type": "object", "properties": {
                                "id": {"type": "integer"},
                                "s": {"type": "string"}}}})] + \
        [json.dumps({"type": "RECORD", "stream": stream,
                     "record": {"id": i, "s": "user %d" % i}})
         for i in range(n)]


# ---- transient faults: retried, the object whole ----

def test_transient_faults_big_load():
    """~60 MB in 5 MiB parts: 503 SlowDown on CreateMultipartUpload and on
    a part twice in a row, a 500 on another part, a connection reset on a
    third, a reset after moto stored a small object (PutObject), and a
    CompleteMultipartUpload answered 200 with an <Error>. All retried
    inside the requests: one run, one attempt, the objects whole."""
    c, b = bucket()
    n = 300000
    lines, digest = big_stream("events", n, 180)
    with FaultProxy(M.endpoint) as proxy:
        lake = Lake("big", {
            "lake": s3_opts(proxy.endpoint, b, "p", part_size="5MiB"),
            "twin": {"url": "file://{tmp}/twin"}},
            batch={"max_records": 1000000, "max_bytes": "1GiB"})
        try:
            lake.put(lines + small_stream("users", 20), timeout=300)
            proxy.set_faults([
                {"method": "POST", "query": "uploads", "action": "slowdown",
                 "at": [1]},
                {"method": "PUT", "query": "partNumber", "action": "slowdown",
                 "at": [2, 3]},
                {"method": "PUT", "query": "partNumber", "action": "internal",
                 "at": [6]},
                {"method": "PUT", "query": "partNumber", "action": "reset",
                 "at": [9]},
                {"method": "PUT", "query": "!partNumber", "path": "/users/",
                 "action": "reset", "forward": True, "at": [1]},
                {"method": "POST", "query": "uploadId", "action": "error_200",
                 "at": [1]},
            ])
            p = lake.run(what="transient faults")
            check_big(c, b, lake, p, proxy.rules(), proxy.log(), n, digest)
        finally:
            lake.close()


def check_big(c, b, lake, p, rules, log, n, digest):
    """The load's outcome: the requests sent, the objects."""
    check(all(r["fired"] == len(r["at"]) for r in rules),
          "every fault fired: %s" % [(r["action"], r["fired"])
                                     for r in rules])
    check("2 batches loaded" in p.stderr and
          "failed" not in p.stderr.lower(),
          "both batches loaded in one attempt: %s" % p.stderr)
    keys = list_keys(c, b)
    ev = [k for k in keys if "/events/" in k]
    us = [k for k in keys if "/users/" in k]
    check(len(keys) == 2 and len(ev) == 1 and len(us) == 1 and
          all(parse_key(k, "p") for k in keys),
          "one object per table: %s" % keys)
    if not ev or not us:
        return
    data = s3_util.read_object(c, b, ev[0])
    rows, got = csv_digest(data)
    check(rows == n and got == digest,
          "events: %d rows (put %d), data digest %s (input's %s)"
          % (rows, n, got[:12], digest[:12]))
    twin = folder_file(lake, ev[0][2:])
    check(sha256(data) == sha256(twin) and len(data) == len(twin),
          "events: the object's bytes (%d, sha256 %s) are the local "
          "folder's (%d, %s), written without faults"
          % (len(data), sha256(data)[:12], len(twin), sha256(twin)[:12]))
    head, urows = read_csv(get(c, b, us[0]))
    check(sorted(int(r["id"]) for r in urows) == list(range(20)) and
          get(c, b, us[0]) == folder_file(lake, us[0][2:]),
          "users: whole after the reset: %s" % urows[:3])
    parts = math.ceil(len(data) / PART)
    check(parts >= 10, "the events object took %d parts" % parts)
    key = ev[0]
    up = requests(log, "part", key)
    check(len(up) == parts + 4 and
          sorted({int(e["q"]["partNumber"]) for e in up}) ==
          list(range(1, parts + 1)),
          "UploadPart: %d requests for %d parts and 4 faults"
          % (len(up), parts))
    by_part = {}
    for e in up:
        by_part.setdefault(int(e["q"]["partNumber"]), []).append(
            (e["fault"], e["status"]))
    retried = {k: v for k, v in by_part.items() if len(v) > 1}
    check(sorted(retried.values()) ==
          sorted([[("internal", 500), (None, 200)],
                  [("reset", None), (None, 200)],
                  [("slowdown", 503), ("slowdown", 503), (None, 200)]]),
          "each faulted part sent again until it succeeded: %s"
          % retried)
    check([e["fault"] for e in requests(log, "create", key)] ==
          ["slowdown", None], "CreateMultipartUpload retried after 503")
    cm = requests(log, "complete", key)
    check([(e["fault"], e["status"]) for e in cm] ==
          [("error_200", 200), (None, 200)],
          "CompleteMultipartUpload sent again after a 200 with <Error>: "
          "%s" % [(e["fault"], e["status"]) for e in cm])
    pu = requests(log, "put", us[0])
    check([e["fault"] for e in pu] == ["reset", None],
          "PutObject sent again after a reset: %s" % pu)
    check(requests(log, "put", key) == [],
          "the big object is never one PutObject")
    check(s3_util.uploads_in_progress(c, b) == [],
          "no multipart upload left")


# ---- persistent faults: the batch fails, nothing is left ----

NESTED = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string"}, "q": {"type": "integer"}}}}}}


def nested_lines(n, per):
    """n records with per items each: a small root table and a subtable
    of n * per rows, big enough for two parts and more."""
    pad = "x" * 60
    return [json.dumps({"type": "SCHEMA", "stream": "orders",
                        "key_properties": ["id"], "schema": NESTED})] + \
        [json.dumps({"type": "RECORD", "stream": "orders", "record": {
            "id": i, "items": [{"sku": "sku-%d-%d-%s" % (i, j, pad), "q": j}
                               for j in range(per)]}}) for i in range(n)]


def quarantine_show(lake, bid):
    p = lake.dray("quarantine", "show", bid, "-c", lake.cfg)
    check(p.returncode == 0, "quarantine show: %s" % p.stderr)
    return p.stdout


def persistent(name, rules, expect_attempts, words):
    """Loads a nested batch (root first, then a multipart subtable) with
    rules in force for good; returns the run's stderr."""
    c, b = bucket()
    with FaultProxy(M.endpoint) as proxy:
        lake = Lake(name, {"lake": s3_opts(proxy.endpoint, b, "p",
                                           part_size="5MiB")},
                    batch={"max_records": 1000000, "max_bytes": "1GiB"},
                    run={"retry": {"attempts": 2, "initial": "50ms",
                                   "max": "100ms"}})
        try:
            lake.put(nested_lines(1000, 120))
            bid = lake.batch_ids()
            proxy.set_faults(rules)
            p = lake.run(expect_exit=4, what=name)
            log = proxy.log()
            st = lake.status()
            show = quarantine_show(lake, bid[0]) if bid else ""
        finally:
            lake.close()
    q = st.get("quarantined", [])
    reason = q[0].get("reason", "") if len(q) == 1 else ""
    check(len(q) == 1 and all(w in reason for w in words) and
          "\n" not in reason,
          "%s: dray status shows the batch quarantined, the reason naming "
          "%s: %s" % (name, words, q))
    check(all(w in p.stderr for w in words),
          "%s: dray run says why: %s" % (name, p.stderr))
    creates = requests(log, "create")
    check(len(creates) == expect_attempts,
          "%s: %d attempt(s) of the subtable's upload, expected %d"
          % (name, len(creates), expect_attempts))
    check(("attempts %d" % expect_attempts) in show or
          ("attempt %d" % expect_attempts) in show or
          ("%d attempt" % expect_attempts) in show,
          "%s: dray quarantine show counts %d attempt(s): %s"
          % (name, expect_attempts, show))
    aborts = requests(log, "abort")
    check(len(aborts) >= expect_attempts,
          "%s: each attempt aborted its upload: %d aborts"
          % (name, len(aborts)))
    check(s3_util.uploads_in_progress(c, b) == [],
          "%s: no multipart upload left in progress: %s"
          % (name, s3_util.uploads_in_progress(c, b)))
    check(list_keys(c, b) == [], "%s: no object of the failed batch: %s"
          % (name, list_keys(c, b)))
    return p.stderr, log


def test_persistent_500_on_complete():
    """Every CompleteMultipartUpload fails with 500: the root table's
    object was already committed (a PutObject); the batch fails, the
    object is removed again, the upload aborted; after run.retry.attempts
    (2) failures the batch is quarantined."""
    _, log = persistent("complete500", [
        {"method": "POST", "query": "uploadId", "action": "internal"}],
        2, ["InternalError", "retries ran out"])
    puts = requests(log, "put")
    check(len(puts) >= 2 and
          any(e["method"] == "DELETE" and "uploadId" not in e["query"] and
              "/orders/" in e["path"] for e in log),
          "the root table's object was written, then deleted: %s"
          % [(e["method"], e["path"]) for e in log if "/orders/" in
             e["path"]])


def test_persistent_403_on_parts():
    """Every UploadPart answered 403 AccessDenied: a configuration error,
    quarantined at the first attempt, the upload aborted."""
    persistent("part403", [
        {"method": "PUT", "query": "partNumber", "action": "error",
         "status": 403, "code": "AccessDenied"}],
        1, ["AccessDenied", "s3:PutObject"])


# ---- a second pass over a multipart table ----

def test_late_column_second_pass():
    """A column that first appears in the batch's last record: the table
    is written again with it, and the first pass's multipart upload is
    aborted, not left behind."""
    c, b = bucket()
    n = 60000
    lines, digest = big_stream("events", n, 180)
    lines.append(json.dumps({"type": "RECORD", "stream": "events",
                             "record": {"id": n, "note": "last", "n": 1,
                                        "late": "here"}}))
    lines[0] = lines[0].replace('"n": {"type": ["null", "integer"]}',
                                '"n": {"type": ["null", "integer"]}, '
                                '"late": {"type": ["null", "string"]}')
    with FaultProxy(M.endpoint) as proxy:
        lake = Lake("late", {"lake": s3_opts(proxy.endpoint, b, "p",
                                             part_size="5MiB")},
                    batch={"max_records": 1000000, "max_bytes": "1GiB"})
        try:
            lake.put(lines)
            lake.run(what="late column")
            log = proxy.log()
        finally:
            lake.close()
    keys = list_keys(c, b)
    check(len(keys) == 1, "one object: %s" % keys)
    if not keys:
        return
    data = s3_util.read_object(c, b, keys[0])
    head, rows = read_csv(data.split(b"\n", 1)[0] + b"\n")
    check(head[-1] == "late", "the late column is in the header: %s" % head)
    rows, got = csv_digest(data[:data.rindex(b"\n", 0, len(data) - 1) + 1])
    check(rows == n and got == digest, "every earlier row, once, in order: "
          "%d rows" % rows)
    last = read_csv(data.split(b"\n", 1)[0] + b"\n" +
                    data[data.rindex(b"\n", 0, len(data) - 1) + 1:])[1]
    check(last and last[0].get("late") == "here" and
          last[0].get("id") == str(n), "the last row: %s" % last)
    check(len(requests(log, "create")) == 2 and
          len(requests(log, "abort")) == 1,
          "two uploads, the first aborted: %s"
          % [(e["method"], e["query"][:20]) for e in log])
    check(s3_util.uploads_in_progress(c, b) == [],
          "no multipart upload left")


TESTS = [test_transient_faults_big_load, test_persistent_500_on_complete,
         test_persistent_403_on_parts, test_late_column_second_pass]


if __name__ == "__main__":
    M = MotoServer()
    main_with_moto(M, TESTS)
