#!/usr/bin/env python3
"""boto3 side of bench/s3.sh: a bucket at a fake S3 (moto_server), the
check of what dray wrote, and the baseline upload.

    s3_bench.py port                        a free TCP port of 127.0.0.1
    s3_bench.py mkbucket ENDPOINT BUCKET
    s3_bench.py check ENDPOINT BUCKET PREFIX ROWS FORMAT
        counts the rows of every object under PREFIX (CSV parsed with the
        csv module, header excluded; JSON lines one a line) and fails
        unless they add up to ROWS; prints OBJECTS=, BYTES=, ROWS=
    s3_bench.py baseline ENDPOINT BUCKET PREFIX PART THREADS DIR OUT
        downloads the objects under PREFIX into DIR (not timed), then
        times boto3's upload_file of each, in key order, to baseline/...
        (multipart at PART bytes, PART-sized parts, THREADS at a time),
        checks the copies' sizes and writes WALL=, BYTES=, OBJECTS= to
        OUT
    s3_bench.py clear ENDPOINT BUCKET       removes every object

The client signs with dummy keys (moto without auth takes any) and uses
path-style addressing, as dray does in the benchmark.
"""
import csv
import io
import os
import socket
import sys
import time


def client(endpoint):
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench",
        config=Config(s3={"addressing_style": "path"},
                      retries={"max_attempts": 3, "mode": "standard"}))


def objects(c, bucket, prefix):
    out = []
    for page in c.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix):
        out.extend((o["Key"], o["Size"]) for o in page.get("Contents", []))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(endpoint, bucket, prefix, rows, fmt):
    c = client(endpoint)
    total = n = size = 0
    for key, sz in objects(c, bucket, prefix):
        if "/_sdc_rejected/" in key:
            print("bench: rejects in %s" % key, file=sys.stderr)
            return 1
        body = c.get_object(Bucket=bucket, Key=key)["Body"].read()
        if fmt == "csv":
            total += sum(1 for _ in csv.reader(
                io.StringIO(body.decode("utf-8"), newline=""))) - 1
        else:
            total += body.count(b"\n")
        n += 1
        size += sz
    print("OBJECTS=%d\nBYTES=%d\nROWS=%d" % (n, size, total))
    if total != rows:
        print("bench: %d rows under %s, expected %d" % (total, prefix, rows),
              file=sys.stderr)
        return 1
    return 0


def baseline(endpoint, bucket, prefix, part, threads, folder, out):
    from boto3.s3.transfer import TransferConfig
    c = client(endpoint)
    objs = objects(c, bucket, prefix)
    if not objs:
        print("bench: nothing under %s" % prefix, file=sys.stderr)
        return 1
    os.makedirs(folder, exist_ok=True)
    files = []
    for i, (key, size) in enumerate(objs):
        path = os.path.join(folder, "%05d" % i)
        c.download_file(bucket, key, path)
        files.append((path, "baseline/" + key, size))
    for path, _, _ in files:  # into the page cache: uploads are timed
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    cfg = TransferConfig(multipart_threshold=part, multipart_chunksize=part,
                         max_concurrency=threads, use_threads=threads > 1)
    t0 = time.monotonic()
    for path, key, _ in files:
        c.upload_file(path, bucket, key, Config=cfg)
    wall = time.monotonic() - t0
    got = dict(objects(c, bucket, "baseline/" + prefix))
    for path, key, size in files:
        if got.get(key) != size:
            print("bench: baseline %s has %s bytes, expected %d"
                  % (key, got.get(key), size), file=sys.stderr)
            return 1
        os.unlink(path)
    with open(out, "w") as f:
        f.write("WALL=%.3f\nBYTES=%d\nOBJECTS=%d\n"
                % (wall, sum(s for _, _, s in files), len(files)))
    return 0


def clear(endpoint, bucket):
    c = client(endpoint)
    for key, _ in objects(c, bucket, ""):
        c.delete_object(Bucket=bucket, Key=key)
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    a = argv[2:]
    if cmd == "port" and not a:
        print(free_port())
        return 0
    if cmd == "mkbucket" and len(a) == 2:
        client(a[0]).create_bucket(Bucket=a[1])
        return 0
    if cmd == "check" and len(a) == 5:
        return check(a[0], a[1], a[2], int(a[3]), a[4])
    if cmd == "baseline" and len(a) == 7:
        return baseline(a[0], a[1], a[2], int(a[3]), int(a[4]), a[5], a[6])
    if cmd == "clear" and len(a) == 2:
        return clear(a[0], a[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
