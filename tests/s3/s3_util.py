"""boto3 helpers for tests against a fake S3 (moto, or the fault proxy in
front of it): an independent view of what the code under test wrote.

    c = client(endpoint)                     # dummy credentials, path style
    make_bucket(c, "b")
    list_keys(c, "b", prefix="")             # every key, in order
    read_object(c, "b", "k")                 # bytes
    uploads_in_progress(c, "b")              # [(key, upload id)]
"""
import hashlib

DUMMY_KEY_ID = "AKIDTESTDUMMY0000000"
DUMMY_SECRET = "dummy-secret-for-moto-no-auth-mode"


def client(endpoint, key_id=DUMMY_KEY_ID, secret=DUMMY_SECRET,
           region="us-east-1"):
    """A boto3 S3 client for endpoint, path style, no retries (a test's
    own reads must not hide faults)."""
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=region,
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"},
                      retries={"max_attempts": 1, "mode": "standard"}))


def make_bucket(c, name):
    c.create_bucket(Bucket=name)
    return name


def list_keys(c, bucket, prefix=""):
    """Every key under prefix, in S3's order."""
    keys = []
    for page in c.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def read_object(c, bucket, key):
    return c.get_object(Bucket=bucket, Key=key)["Body"].read()


def sha256_of_object(c, bucket, key):
    """(sha256 hex, size) of an object, streamed."""
    h = hashlib.sha256()
    n = 0
    body = c.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(1 << 20), b""):
        h.update(chunk)
        n += len(chunk)
    return h.hexdigest(), n


def uploads_in_progress(c, bucket, prefix=""):
    """[(key, upload id)] of the multipart uploads not completed nor
    aborted."""
    out = []
    kw = {"Bucket": bucket, "Prefix": prefix}
    while True:
        r = c.list_multipart_uploads(**kw)
        out.extend((u["Key"], u["UploadId"]) for u in r.get("Uploads", []))
        if not r.get("IsTruncated"):
            return out
        kw["KeyMarker"] = r["NextKeyMarker"]
        kw["UploadIdMarker"] = r["NextUploadIdMarker"]
