#!/usr/bin/env python3
"""The S3 destination against real Amazon S3, when asked to.

    DRAY_TEST_S3_URL=s3://bucket/prefix AWS_ACCESS_KEY_ID=... \\
    AWS_SECRET_ACCESS_KEY=... [AWS_SESSION_TOKEN=...] [AWS_REGION=...] \\
        test_s3_live.py DRAY PLUGIN_DIR

Without DRAY_TEST_S3_URL or credentials in the environment (keys, or
AWS_PROFILE) it prints why and exits 77 (skipped). Otherwise: a small
flat stream and a nested one through `dray put` and `dray run --once`
into a fresh prefix under the URL (<prefix>/dray-live-<time>-<pid>), as
CSV and as gzip JSON lines, read back with boto3 (which takes the same
credentials from the environment); the prefix is emptied in a finally
block, also when a check fails. The region is AWS_REGION (or
AWS_DEFAULT_REGION), else the bucket's own as S3 reports it. With
DRAY_TEST_S3_ENDPOINT (https://host[:port]) it runs against that
S3-compatible store instead, path style.
"""
import gzip
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_moto_util import (Lake, check, read_csv,  # noqa: E402
                          require_plugin, run_tests)

SKIP = "skipped: set DRAY_TEST_S3_URL and AWS credentials"
URL = os.environ.get("DRAY_TEST_S3_URL", "")
ENDPOINT = os.environ.get("DRAY_TEST_S3_ENDPOINT")
PASS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CA_BUNDLE")
ORDERS = {"type": "object", "properties": {
    "id": {"type": "integer"}, "note": {"type": ["null", "string"]},
    "cust": {"type": ["null", "object"], "properties": {
        "name": {"type": ["null", "string"]}}},
    "items": {"type": ["null", "array"], "items": {
        "type": "object", "properties": {"sku": {"type": "string"},
                                         "qty": {"type": "integer"}}}}}}
USERS = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": ["null", "string"]}}}
S3 = None
BUCKET = PREFIX = REGION = None


def have_credentials():
    e = os.environ
    return bool((e.get("AWS_ACCESS_KEY_ID") and
                 e.get("AWS_SECRET_ACCESS_KEY")) or e.get("AWS_PROFILE"))


def messages():
    out = [{"type": "SCHEMA", "stream": "orders", "key_properties": ["id"],
            "schema": ORDERS},
           {"type": "SCHEMA", "stream": "users", "key_properties": ["id"],
            "schema": USERS}]
    for i in range(5):
        out.append({"type": "RECORD", "stream": "orders", "record": {
            "id": i, "note": "n\u00e9 %d, \"q\"" % i if i else None,
            "cust": {"name": "c%d" % i},
            "items": [{"sku": "s%d-%d" % (i, j), "qty": j}
                      for j in range(i % 3)]}})
        out.append({"type": "RECORD", "stream": "users",
                    "record": {"id": i, "name": "u%d" % i}})
    return out


def keys(prefix):
    out = []
    for page in S3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=prefix + "/"):
        out.extend(o["Key"] for o in page.get("Contents", []))
    return out


def body(key):
    return S3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def clean(prefix):
    for k in keys(prefix):
        S3.delete_object(Bucket=BUCKET, Key=k)
    r = S3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix + "/")
    for u in r.get("Uploads", []):
        S3.abort_multipart_upload(Bucket=BUCKET, Key=u["Key"],
                                  UploadId=u["UploadId"])


def test_live_load():
    sub = "%sdray-live-%d-%d" % (PREFIX + "/" if PREFIX else "",
                                 int(time.time()), os.getpid())
    url = "s3://%s/%s" % (BUCKET, sub)
    env = {k: os.environ[k] for k in PASS if k in os.environ}
    # dray runs with HOME in its temp folder: a profile still comes from
    # the user's shared files.
    home = os.path.expanduser("~/.aws")
    for var, name in (("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
                      ("AWS_CONFIG_FILE", "config")):
        if var not in env and os.path.exists(os.path.join(home, name)):
            env[var] = os.path.join(home, name)
    base = {"region": REGION}
    if ENDPOINT:
        base.update(endpoint=ENDPOINT, path_style=True)
    lake = Lake("live", {
        "csv": dict(base, url=url + "/csv"),
        "js": dict(base, url=url + "/js", format="jsonl",
                   compression="gzip")}, env=env)
    try:
        lake.put(messages())
        p = lake.run(what="live load", timeout=600)
        check("2 batches loaded" in p.stderr, "loaded: %s" % p.stderr)
        ck = sorted(keys(sub + "/csv"))
        tabs = sorted(k.split("/")[-2] for k in ck)
        check(tabs == ["orders", "orders__items", "users"] and
              all(k.endswith(".csv") for k in ck),
              "CSV: one object per table: %s" % ck)
        for k in ck:
            head, rows = read_csv(body(k))
            t = k.split("/")[-2]
            if t == "orders":
                got = {r["id"]: (r["note"], r["cust__name"]) for r in rows}
                check(got == {str(i): ("n\u00e9 %d, \"q\"" % i if i else "",
                                       "c%d" % i) for i in range(5)},
                      "orders rows: %s" % got)
            elif t == "orders__items":
                got = sorted((r["_sdc_source_key_id"], r["_sdc_level_0_id"],
                              r["sku"]) for r in rows)
                want = sorted((str(i), str(j), "s%d-%d" % (i, j))
                              for i in range(5) for j in range(i % 3))
                check(got == want, "orders__items rows: %s" % got)
            else:
                check(sorted((r["id"], r["name"]) for r in rows) ==
                      [(str(i), "u%d" % i) for i in range(5)],
                      "users rows: %s" % rows)
        jk = sorted(keys(sub + "/js"))
        check(len(jk) == 2 and all(k.endswith(".jsonl.gz") for k in jk),
              "JSON lines: one .jsonl.gz per stream: %s" % jk)
        for k in jk:
            docs = [json.loads(x) for x in
                    gzip.decompress(body(k)).decode().splitlines()]
            want = [m["record"] for m in messages()
                    if m["type"] == "RECORD" and m["stream"] ==
                    k.split("/")[-2]]
            got = [{f: v for f, v in d.items() if not f.startswith("_sdc_")}
                   for d in docs]
            check(got == want, "%s: the records as they came: %s"
                  % (k, got))
    finally:
        lake.close()
        clean(sub)
        left = keys(sub)
        check(left == [], "clean-up left %s" % left)


def main():
    global S3, BUCKET, PREFIX, REGION
    if not URL.startswith("s3://") or not have_credentials():
        print(SKIP)
        sys.exit(77)
    try:
        import boto3
    except ImportError:
        print("skipped: boto3 is not installed")
        sys.exit(77)
    BUCKET, _, PREFIX = URL[len("s3://"):].partition("/")
    PREFIX = PREFIX.strip("/")
    require_plugin()
    REGION = os.environ.get("AWS_REGION") or \
        os.environ.get("AWS_DEFAULT_REGION")
    kw = {}
    if ENDPOINT:
        from botocore.config import Config
        kw = {"endpoint_url": ENDPOINT,
              "config": Config(s3={"addressing_style": "path"})}
    if not REGION:
        loc = boto3.client("s3", **kw).get_bucket_location(Bucket=BUCKET)
        REGION = loc.get("LocationConstraint") or "us-east-1"
    S3 = boto3.client("s3", region_name=REGION, **kw)
    run_tests([test_live_load])


if __name__ == "__main__":
    main()
