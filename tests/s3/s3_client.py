#!/usr/bin/env python3
"""The SDK's S3 client and streaming writer (sdk/net/s3_*.c) against moto,
directly and through the fault proxy, driven by net_tools_s3.

    s3_client.py PATH/TO/net_tools_s3 [CASE-SUBSTRING]

Each case checks what the client did with an independent reader (boto3)
and, through the proxy, the requests it sent. Exits 77 (skipped) without
moto_server or boto3.
"""
import base64
import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sdk", "net"))

from fault_proxy import FaultProxy  # noqa: E402
from loopback_http import LoopbackServer, QuietHandler  # noqa: E402
from s3_server import SLOW, MotoServer, free_port, have_moto  # noqa: E402
import s3_util  # noqa: E402

MIB = 1024 * 1024
PART = 5 * MIB
PERIOD = 1048573  # as in tools_s3.c


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def check_eq(got, want, what):
    if got != want:
        raise Failure("%s: got %r, expected %r" % (what, got, want))


_blocks = {}


def pattern(n, seed=1):
    """The bytes tools_s3 writes for "write BUCKET KEY n seed"."""
    if seed not in _blocks:
        x = seed & 0xFFFFFFFF
        b = bytearray(PERIOD)
        for i in range(PERIOD):
            x = (x * 1103515245 + 12345) & 0xFFFFFFFF
            b[i] = (x >> 16) & 0xFF
        _blocks[seed] = bytes(b)
    blk = _blocks[seed]
    return (blk * (n // PERIOD + 1))[:n]


class Result:
    def __init__(self, p):
        self.exit = p.returncode
        self.out = p.stdout
        self.err = p.stderr.decode("utf-8", "replace")
        self.rc = None
        self.status = self.code = self.message = None
        self.retryable = self.config = None
        for line in self.err.splitlines():
            if line.startswith("RESULT "):
                f = dict(kv.split("=", 1) for kv in line.split()[1:]
                         if "=" in kv)
                self.rc = int(f["rc"])
                self.status = int(f.get("status", 0))
                self.code = f.get("code")
                self.retryable = int(f.get("retryable", 0))
                self.config = int(f.get("config", 0))
            elif line.startswith("MESSAGE "):
                self.message = line[len("MESSAGE "):]

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    def ok(self, what):
        if self.exit != 0 or self.rc != 0 or "Sanitizer" in self.err:
            raise Failure("%s failed (exit %d):\n%s" % (what, self.exit,
                                                       self.err))
        return self

    def failed(self, what):
        # 3: the driver's "operation failed"; 1 would be a sanitizer's.
        if self.exit != 3 or self.rc != -1 or "Sanitizer" in self.err:
            raise Failure("%s: expected a failure, got exit %d:\n%s"
                          % (what, self.exit, self.err))
        return self


class Env:
    """The moto server, the proxy in front of it and the driver."""

    def __init__(self, tool, moto, proxy):
        self.tool_path = tool
        self.moto = moto
        self.proxy = proxy
        self.tmp = tempfile.mkdtemp(prefix="dray-s3-test-")
        self.writer_tmp = os.path.join(self.tmp, "writer")
        os.mkdir(self.writer_tmp)
        self.boto = s3_util.client(moto.endpoint)
        self.n_buckets = 0

    def bucket(self):
        self.n_buckets += 1
        return s3_util.make_bucket(self.boto, "bkt-%03d" % self.n_buckets)

    def env(self, key_id=s3_util.DUMMY_KEY_ID, secret=s3_util.DUMMY_SECRET):
        e = dict(os.environ)
        for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE",
                  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
            e.pop(k, None)
        e.update({"AWS_ACCESS_KEY_ID": key_id,
                  "AWS_SECRET_ACCESS_KEY": secret,
                  "AWS_EC2_METADATA_DISABLED": "true",
                  "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "no"),
                  "AWS_CONFIG_FILE": os.path.join(self.tmp, "no"),
                  "TMPDIR": self.writer_tmp})
        return e

    def run(self, *args, endpoint=None, opts=(), stdin=b"", env=None):
        """The driver against the proxy (or endpoint) with back-off kept
        short."""
        cmd = [self.tool_path, "--endpoint", endpoint or self.proxy.endpoint,
               "--retry-base", "10"] + list(opts) + [str(a) for a in args]
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env or self.env(),
                           timeout=180 * SLOW)
        return Result(p)

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def requests(log, method=None, query=None, key=None):
    """The logged requests of a method whose query has the marker."""
    out = []
    for e in log:
        if method and e["method"] != method:
            continue
        names = [q.split("=", 1)[0] for q in e["query"].split("&") if q]
        if query is not None:
            if query.startswith("!"):
                if query[1:] in names:
                    continue
            elif query not in names:
                continue
        if key is not None and not e["path"].endswith("/" + key):
            continue
        out.append(e)
    return out


def fresh(env, rules=()):
    env.proxy.set_faults(list(rules))
    env.proxy.clear_log()


# ---- objects --------------------------------------------------------------

def case_roundtrip(env):
    b = env.bucket()
    data = bytes(range(256)) * 41 + b"end"
    env.run("put", b, "mem.bin", stdin=data).ok("put from memory")
    check_eq(s3_util.read_object(env.boto, b, "mem.bin"), data,
             "the object boto3 reads")
    path = os.path.join(env.tmp, "file.bin")
    with open(path, "wb") as f:
        f.write(data[::-1])
    env.run("put", b, "file.bin", path).ok("put from a file")
    check_eq(s3_util.read_object(env.boto, b, "file.bin"), data[::-1],
             "the object put from a file")
    r = env.run("get", b, "mem.bin").ok("get")
    check_eq(r.out, data, "the bytes get streams")
    head = env.boto.head_object(Bucket=b, Key="mem.bin")
    check_eq(head["ETag"], '"%s"' % hashlib.md5(data).hexdigest(),
             "the ETag (MD5 of the body)")
    check_eq(head["ContentType"], "application/octet-stream",
             "the default Content-Type")
    env.run("put", b, "empty", stdin=b"").ok("put of an empty object")
    check_eq(s3_util.read_object(env.boto, b, "empty"), b"", "empty object")
    env.run("delete", b, "mem.bin").ok("delete")
    check_eq(s3_util.list_keys(env.boto, b), ["empty", "file.bin"],
             "keys after the delete")
    env.run("delete", b, "mem.bin").ok("delete of a missing key")
    r = env.run("get", b, "mem.bin").failed("get of a missing key")
    check_eq((r.status, r.code, r.config), (404, "NoSuchKey", 0),
             "a missing key")
    # An empty key is refused before anything is sent (PUT on the bucket
    # itself would create it).
    fresh(env)
    r = env.run("put", b, "", stdin=b"x").failed("put of an empty key")
    check_eq(r.code, "InvalidArgument", "the error")
    check_eq(env.proxy.log(), [], "nothing sent")


KEYS = ["with space", "plus+sign", "eq=ual&amp", "tilde~x", "caf\u00e9/\u2603",
        "double//slash", "/leading", "pct%20literal", "q?x#y",
        "semi;colon,comma*(paren)'q", "trailing/", "dots/./x", "up/../y"]


def case_keys(env):
    b = env.bucket()
    for i, k in enumerate(KEYS):
        env.run("put", b, k, stdin=b"v%d" % i).ok("put of %r" % k)
    want = sorted(KEYS, key=lambda s: s.encode())
    check_eq(s3_util.list_keys(env.boto, b), want, "the keys boto3 lists")
    r = env.run("list", b).ok("list")
    got = [bytes.fromhex(line.split()[0]).decode()
           for line in r.text.splitlines()]
    check_eq(got, want, "the keys the client lists")
    for i, k in enumerate(KEYS):
        r = env.run("get", b, k).ok("get of %r" % k)
        check_eq(r.out, b"v%d" % i, "the object %r" % k)
    for k in KEYS:
        env.run("delete", b, k).ok("delete of %r" % k)
    check_eq(s3_util.list_keys(env.boto, b), [], "keys after the deletes")


def case_list_paging(env):
    b = env.bucket()
    for k in ["a-out", "page/z", "pagex"]:
        env.boto.put_object(Bucket=b, Key=k, Body=b"x")
    keys = ["page/%02d" % i for i in range(7)]
    for i, k in enumerate(keys):
        env.boto.put_object(Bucket=b, Key=k, Body=b"x" * i)
    fresh(env)
    r = env.run("list", b, "page/", opts=["--page-size", "2"]).ok("list")
    rows = [line.split() for line in r.text.splitlines()]
    check_eq([bytes.fromhex(x[0]).decode() for x in rows], keys + ["page/z"],
             "the keys under page/")
    check_eq([int(x[1]) for x in rows], list(range(7)) + [1], "the sizes")
    check(all(x[2].startswith('"') for x in rows), "quoted ETags")
    lists = requests(env.proxy.log(), "GET", "list-type")
    check_eq(len(lists), 4, "pages of 2 for 8 keys")
    check("continuation-token" not in lists[0]["query"], "the first page")
    check(all("continuation-token=" in e["query"] and "max-keys=2" in
              e["query"] for e in lists[1:]), "the next pages' queries")
    # A listing of nothing.
    r = env.run("list", b, "nothing/").ok("empty list")
    check_eq(r.text, "", "an empty listing")


def case_no_such_bucket(env):
    r = env.run("put", "no-such-bucket-x", "k",
                stdin=b"x").failed("put to a missing bucket")
    check_eq((r.status, r.code, r.config), (404, "NoSuchBucket", 1),
             "the error")
    check("no-such-bucket-x" in r.message, "the message names the bucket: "
          + r.message)
    r = env.run("list", "no-such-bucket-x").failed("list of it")
    check_eq(r.code, "NoSuchBucket", "the list error")


def case_addressing(env):
    b = env.bucket()
    port = env.proxy.port
    # Path style: the bucket in the path, Host the endpoint's.
    fresh(env)
    env.run("put", b, "p/k", stdin=b"path").ok("path-style put")
    e = env.proxy.log()[0]
    check_eq((e["host"], e["path"]), ("127.0.0.1:%d" % port, "/%s/p/k" % b),
             "path-style request")
    # Virtual-hosted: libcurl resolves *.localhost to the loopback itself
    # (so does this test's environment need nothing more).
    vh = "http://localhost:%d" % port
    fresh(env)
    env.run("put", b, "v/k", endpoint=vh, opts=["--virtual"],
            stdin=b"virtual").ok("virtual-hosted put")
    r = env.run("get", b, "p/k", endpoint=vh, opts=["--virtual"]).ok("get")
    check_eq(r.out, b"path", "virtual-hosted get of the path-style object")
    r = env.run("list", b, endpoint=vh, opts=["--virtual"]).ok("list")
    check_eq(len(r.text.splitlines()), 2, "virtual-hosted listing")
    log = env.proxy.log()
    check_eq([(e["host"], e["path"]) for e in log],
             [("%s.localhost:%d" % (b, port), "/v/k"),
              ("%s.localhost:%d" % (b, port), "/p/k"),
              ("%s.localhost:%d" % (b, port), "/")],
             "virtual-hosted requests")
    check_eq(s3_util.read_object(env.boto, b, "v/k"), b"virtual",
             "the virtual-hosted object")
    # An IP endpoint has no sub-domains: path style even when asked
    # otherwise.
    fresh(env)
    env.run("get", b, "v/k", opts=["--virtual"]).ok("virtual on an IP")
    check_eq(env.proxy.log()[0]["path"], "/%s/v/k" % b, "fallback path")


# ---- the writer -------------------------------------------------------------

def assert_commit_aborted(r):
    """The failed commit itself left no upload (the driver looked before
    its own abort and free)."""
    check("UPLOADS_AFTER_COMMIT 0" in r.err,
          "uploads left by the failed commit:\n" + r.err)


def assert_no_uploads(env, b, what):
    check_eq(s3_util.uploads_in_progress(env.boto, b), [], what)


def assert_tmp_empty(env):
    check_eq(os.listdir(env.writer_tmp), [], "files left in tmp_dir")


def case_writer_small(env):
    b = env.bucket()
    fresh(env)
    r = env.run("write", b, "small", 1000, 3,
                opts=["--content-type", "text/csv"]).ok("write 1000 bytes")
    check_eq(r.text.strip(), "1000", "bytes written")
    log = env.proxy.log()
    check_eq([(e["method"], e["query"]) for e in log], [("PUT", "")],
             "one PutObject, no multipart")
    check_eq(s3_util.read_object(env.boto, b, "small"), pattern(1000, 3),
             "the object")
    check_eq(env.boto.head_object(Bucket=b, Key="small")["ContentType"],
             "text/csv", "the content type")
    # Exactly one part's worth is one PutObject too; nothing is empty.
    fresh(env)
    env.run("write", b, "exact", PART, 4).ok("write one part")
    check_eq([e["method"] for e in env.proxy.log()], ["PUT"],
             "one PutObject for exactly part_size")
    check_eq(s3_util.sha256_of_object(env.boto, b, "exact"),
             (hashlib.sha256(pattern(PART, 4)).hexdigest(), PART),
             "the one-part object")
    fresh(env)
    env.run("write", b, "zero", 0).ok("write nothing")
    check_eq(s3_util.read_object(env.boto, b, "zero"), b"", "empty object")
    assert_tmp_empty(env)


def case_writer_large(env):
    b = env.bucket()
    n = 60 * 1000 * 1000
    fresh(env)
    r = env.run("write", b, "big/obj", n, 5,
                opts=["--part-size", str(PART)]).ok("write 60 MB")
    check_eq(r.text.strip(), str(n), "bytes written")
    log = env.proxy.log()
    parts = requests(log, "PUT", "partNumber")
    check_eq([e["query"].split("&")[0] for e in parts],
             ["partNumber=%d" % i for i in range(1, 13)],
             "12 parts, in order")
    check_eq(len(requests(log, "POST", "uploads")), 1, "one create")
    check_eq(len(requests(log, "POST", "uploadId")), 1, "one complete")
    check_eq(len(requests(log, "DELETE")), 0, "no abort")
    check_eq(s3_util.sha256_of_object(env.boto, b, "big/obj"),
             (hashlib.sha256(pattern(n, 5)).hexdigest(), n),
             "the object's bytes")
    check(env.boto.head_object(Bucket=b, Key="big/obj")["ETag"]
          .endswith('-12"'), "a 12-part ETag")
    assert_no_uploads(env, b, "uploads left")
    assert_tmp_empty(env)


def crc32_b64(data):
    """S3's x-amz-checksum-crc32 of data."""
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def case_writer_checksums(env):
    # The proxy checks every x-amz-checksum-crc32 against the body, as S3
    # does (BadDigest), so the writes below succeed only with right ones.
    b = env.bucket()
    data = pattern(1000, 8)
    fresh(env)
    env.run("write", b, "small", 1000, 8).ok("write 1000 bytes")
    check_eq([e["checksums"] for e in env.proxy.log()],
             [{"x-amz-checksum-crc32": crc32_b64(data),
               "x-amz-sdk-checksum-algorithm": "CRC32"}],
             "the PutObject's checksum headers")
    head = env.boto.head_object(Bucket=b, Key="small", ChecksumMode="ENABLED")
    check_eq(head.get("ChecksumCRC32"), crc32_b64(data), "the CRC32 kept")
    n = 2 * PART + 777
    data = pattern(n, 9)
    parts = [data[i:i + PART] for i in range(0, n, PART)]
    fresh(env)
    env.run("write", b, "big", n, 9,
            opts=["--part-size", str(PART)]).ok("write three parts")
    log = env.proxy.log()
    check_eq([e["checksums"] for e in requests(log, "POST", "uploads")],
             [{"x-amz-checksum-algorithm": "CRC32"}], "the create")
    puts = requests(log, "PUT", "partNumber")
    check_eq([e["checksums"].get("x-amz-checksum-crc32") for e in puts],
             [crc32_b64(p) for p in parts], "every part's CRC32")
    check_eq([e for e in puts if "content-type" in e["headers"]], [],
             "parts sent without a Content-Type")
    check_eq([e["part_crc32s"] for e in requests(log, "POST", "uploadId")],
             [[crc32_b64(p) for p in parts]], "Complete names them all")
    composite = crc32_b64(b"".join(zlib.crc32(p).to_bytes(4, "big")
                                   for p in parts))
    head = env.boto.head_object(Bucket=b, Key="big", ChecksumMode="ENABLED")
    check_eq(head.get("ChecksumCRC32", "").split("-")[0], composite,
             "the composite CRC32 kept")
    check_eq(s3_util.sha256_of_object(env.boto, b, "big"),
             (hashlib.sha256(data).hexdigest(), n), "the object's bytes")
    # Without checksums (stores that refuse them): no such header at all.
    fresh(env)
    env.run("write", b, "plain", n, 9,
            opts=["--part-size", str(PART), "--checksum", "none"]) \
        .ok("write without checksums")
    log = env.proxy.log()
    check_eq([(e["checksums"], e["part_crc32s"]) for e in log],
             [({}, [])] * 5, "create, 3 parts, complete: no checksums")
    check_eq(s3_util.sha256_of_object(env.boto, b, "plain"),
             (hashlib.sha256(data).hexdigest(), n), "the object's bytes")
    assert_no_uploads(env, b, "uploads left")


def case_writer_lent_client(env):
    # Small objects written one after another: with the driver's client
    # lent, their PutObjects share its connection (the proxy keeps
    # connections alive); each writer's own client opens one per object.
    b = env.bucket()
    for lend, conns in ((["--lend"], 1), ([], 4)):
        fresh(env)
        r = env.run("write-many", b, "many/", 4, 5000, opts=lend) \
            .ok("four small objects %s" % lend)
        check_eq(r.text.strip(), "20000", "bytes written")
        log = env.proxy.log()
        check_eq([e["method"] for e in log], ["PUT"] * 4, "four PutObjects")
        check_eq(len({e["conn"] for e in log}), conns,
                 "connections used %s" % lend)
        for i in range(4):
            check_eq(s3_util.read_object(env.boto, b, "many/%d" % i),
                     pattern(5000, i + 1), "object %d" % i)
    # A multipart object among them: its parts go on the thread's own
    # connection, the lent client is untouched.
    fresh(env)
    env.run("write-many", b, "mixed/", 2, PART + 10,
            opts=["--lend", "--part-size", str(PART)]).ok("two 2-part objects")
    log = env.proxy.log()
    check_eq(len(requests(log, "POST", "uploadId")), 2, "two completes")
    for i in range(2):
        check_eq(s3_util.read_object(env.boto, b, "mixed/%d" % i),
                 pattern(PART + 10, i + 1), "multipart object %d" % i)
    assert_no_uploads(env, b, "uploads left")
    assert_tmp_empty(env)


def case_writer_stdin(env):
    b = env.bucket()
    data = os.urandom(PART + 12345)
    env.run("write", b, "stdin", "-", opts=["--part-size", str(PART)],
            stdin=data).ok("write from stdin")
    check_eq(s3_util.read_object(env.boto, b, "stdin"), data, "the object")


def case_writer_abort(env):
    b = env.bucket()
    fresh(env)
    env.run("write-abort", b, "gone", 3 * PART + 5,
            opts=["--part-size", str(PART)]).ok("write, then abort")
    assert_no_uploads(env, b, "uploads after abort")
    check_eq(s3_util.list_keys(env.boto, b), [], "no object after abort")
    check_eq(len(requests(env.proxy.log(), "DELETE", "uploadId")), 1,
             "one AbortMultipartUpload")
    assert_tmp_empty(env)


def case_writer_bad_options(env):
    b = env.bucket()
    r = env.run("write", b, "k", 10,
                opts=["--part-size", str(PART - 1)]).failed("small part")
    check_eq((r.code, r.config), ("InvalidPartSize", 1), "a part under 5 MiB")
    r = env.run("write", b, "k", 10,
                opts=["--tmp-dir", os.path.join(env.tmp, "missing")]) \
        .failed("missing tmp_dir")
    check_eq((r.code, r.config), ("TempFileError", 1), "tmp_dir missing")
    check("tmp_dir" in r.message, "the message names tmp_dir: " + r.message)


# ---- faults -----------------------------------------------------------------

def case_slowdown_on_part(env):
    b = env.bucket()
    fresh(env, [{"method": "PUT", "query": "partNumber", "action": "slowdown",
                 "first": 2}])
    n = 2 * PART + 100
    env.run("write", b, "slow", n, 6,
            opts=["--part-size", str(PART)]).ok("write through SlowDown")
    parts = requests(env.proxy.log(), "PUT", "partNumber")
    check_eq([(e["query"].split("&")[0], e["status"]) for e in parts],
             [("partNumber=1", 503), ("partNumber=1", 503),
              ("partNumber=1", 200), ("partNumber=2", 200),
              ("partNumber=3", 200)], "part tries")
    check_eq(s3_util.sha256_of_object(env.boto, b, "slow"),
             (hashlib.sha256(pattern(n, 6)).hexdigest(), n), "the object")


def case_reset_on_put(env):
    b = env.bucket()
    for forward in (False, True):
        fresh(env, [{"method": "PUT", "query": ["!partNumber"],
                     "action": "reset", "forward": forward, "first": 1}])
        env.run("put", b, "r", stdin=b"after reset %d" % forward) \
            .ok("put through a reset (forward=%s)" % forward)
        check_eq([(e["method"], e["status"]) for e in env.proxy.log()],
                 [("PUT", None), ("PUT", 200)], "a reset, then a retry")
        check_eq(s3_util.read_object(env.boto, b, "r"),
                 b"after reset %d" % forward, "the object")


def case_reset_mid_body_get(env):
    b = env.bucket()
    env.boto.put_object(Bucket=b, Key="g", Body=b"0123456789" * 1000)
    fresh(env, [{"method": "GET", "action": "reset_body", "first": 1}])
    r = env.run("get", b, "g").failed("a GET cut mid-body")
    check_eq((r.code, r.retryable), ("ConnectionReset", 1), "the error")
    check(len(r.out) < 10000, "not passed off as the whole object")
    # Cut before any byte reached the sink: retried.
    fresh(env, [{"method": "GET", "action": "reset", "first": 1}])
    r = env.run("get", b, "g").ok("a GET after a reset")
    check_eq(r.out, b"0123456789" * 1000, "the object")


def case_conflict_and_500(env):
    b = env.bucket()
    fresh(env, [{"method": "PUT", "action": "conflict", "first": 1},
                {"method": "GET", "query": "list-type", "action": "internal",
                 "first": 1}])
    env.run("put", b, "c", stdin=b"conflict").ok("put after a 409")
    r = env.run("list", b).ok("list after a 500")
    check_eq(len(r.text.splitlines()), 1, "the listing")
    check_eq([(e["method"], e["status"]) for e in env.proxy.log()],
             [("PUT", 409), ("PUT", 200), ("GET", 500), ("GET", 200)],
             "retried once each")


def case_retries_run_out(env):
    b = env.bucket()
    fresh(env, [{"method": "PUT", "action": "slowdown"}])
    r = env.run("put", b, "k", stdin=b"x",
                opts=["--attempts", "3"]).failed("put under SlowDown")
    check_eq((r.status, r.code, r.retryable, r.config),
             (503, "SlowDown", 1, 0), "the error")
    check_eq(len(env.proxy.log()), 3, "three tries")
    fresh(env, [{"method": "PUT", "action": "error", "status": 400,
                 "code": "RequestTimeout"}])
    r = env.run("put", b, "k", stdin=b"x",
                opts=["--attempts", "2"]).failed("put under RequestTimeout")
    check_eq((r.status, r.code, r.retryable), (400, "RequestTimeout", 1),
             "a 400 RequestTimeout is retried")
    check_eq(len(env.proxy.log()), 2, "two tries")


def case_complete_error_200(env):
    b = env.bucket()
    for forward in (False, True):
        fresh(env, [{"method": "POST", "query": "uploadId",
                     "action": "error_200", "forward": forward, "first": 1}])
        key = "c200-%d" % forward
        n = PART + 777
        env.run("write", b, key, n, 8, opts=["--part-size", str(PART)]) \
            .ok("write with a 200 <Error> on complete (forward=%s)" % forward)
        completes = requests(env.proxy.log(), "POST", "uploadId")
        check_eq([e["status"] for e in completes], [200, 200],
                 "complete tried twice")
        check_eq(s3_util.sha256_of_object(env.boto, b, key),
                 (hashlib.sha256(pattern(n, 8)).hexdigest(), n), "the object")
        assert_no_uploads(env, b, "uploads left")
    # A 200 <Error> whose code is not transient is a failure at once.
    fresh(env, [{"method": "POST", "query": "uploadId", "action": "error_200",
                 "code": "InvalidPart"}])
    r = env.run("write", b, "c200-bad", PART + 1,
                opts=["--part-size", str(PART)]).failed("200 InvalidPart")
    check_eq((r.status, r.code, r.retryable), (200, "InvalidPart", 0),
             "the error")
    check_eq(len(requests(env.proxy.log(), "POST", "uploadId")), 1,
             "not retried")
    assert_commit_aborted(r)
    assert_no_uploads(env, b, "aborted after the failed complete")


def case_complete_gone_after_success(env):
    """AWS completed the upload but the answer was lost; the next try hears
    NoSuchUpload. The object's ETag shows it is done."""
    b = env.bucket()
    fresh(env, [{"method": "POST", "query": "uploadId", "action": "error_200",
                 "forward": True, "at": [1]},
                {"method": "POST", "query": "uploadId", "action": "error",
                 "status": 404, "code": "NoSuchUpload", "at": [2]}])
    n = 2 * PART + 3
    env.run("write", b, "done", n, 9, opts=["--part-size", str(PART)]) \
        .ok("write whose complete succeeded unheard")
    log = env.proxy.log()
    check_eq(len(requests(log, "HEAD")), 1, "the object looked at")
    check_eq(s3_util.sha256_of_object(env.boto, b, "done"),
             (hashlib.sha256(pattern(n, 9)).hexdigest(), n), "the object")
    # NoSuchUpload with no object behind it stays a failure.
    fresh(env, [{"method": "POST", "query": "uploadId", "action": "error",
                 "status": 404, "code": "NoSuchUpload"}])
    r = env.run("write", b, "never", PART + 3,
                opts=["--part-size", str(PART)]).failed("NoSuchUpload")
    check_eq((r.status, r.code), (404, "NoSuchUpload"), "the error")
    check_eq(s3_util.list_keys(env.boto, b, "never"), [], "no object")
    assert_commit_aborted(r)
    assert_no_uploads(env, b, "aborted")


def case_permanent_failure_aborts(env):
    b = env.bucket()
    fresh(env, [{"method": "PUT", "query": "partNumber", "action": "error",
                 "status": 403, "code": "AccessDenied",
                 "message": "Access Denied"}])
    r = env.run("write", b, "denied/obj", 4 * PART,
                opts=["--part-size", str(PART)]).failed("write, parts denied")
    check_eq((r.status, r.code, r.retryable, r.config),
             (403, "AccessDenied", 0, 1), "the error")
    check("s3:PutObject" in r.message and "denied/obj" in r.message,
          "the message names the permission and the key: " + r.message)
    log = env.proxy.log()
    check_eq(len(requests(log, "PUT", "partNumber")), 1,
             "a 403 is not retried, and no part after it is sent")
    check_eq(len(requests(log, "DELETE", "uploadId")), 1, "the abort")
    assert_commit_aborted(r)
    assert_no_uploads(env, b, "uploads after the failure")
    check_eq(s3_util.list_keys(env.boto, b), [], "no object")
    assert_tmp_empty(env)


def case_connect_refused(env):
    port = free_port()  # nothing listens there
    r = env.run("put", "b", "k", stdin=b"x", opts=["--attempts", "2"],
                endpoint="http://127.0.0.1:%d" % port).failed("refused")
    check_eq((r.status, r.code, r.retryable, r.config),
             (0, "ConnectFailed", 1, 0), "the error")


class FakeContainerCreds(LoopbackServer):
    """A container credentials endpoint that fails `fail` times with 503
    (the chain calls that transient), then gives session credentials."""

    def __init__(self, fail):
        self.fail = fail
        self.calls = 0
        fake = self

        class H(QuietHandler):
            def do_GET(self):
                fake.calls += 1
                if fake.calls <= fake.fail:
                    status, body = 503, b"busy"
                else:
                    status, body = 200, json.dumps({
                        "AccessKeyId": "ASIATESTCONTAINER000",
                        "SecretAccessKey": "container-secret",
                        "Token": "container-session-token",
                        "Expiration": "2999-01-01T00:00:00Z"}).encode()
                self.send_body(status, body, "application/json")

        super().__init__(H)

    @property
    def url(self):
        return self.endpoint + "/creds"


def case_credentials(env):
    b = env.bucket()
    # The chain cannot fetch for now: the request is made again later, and
    # the session token goes with it (signed).
    fake = FakeContainerCreds(fail=2)
    try:
        e = env.env()
        del e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"]
        e["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = fake.url
        fresh(env)
        env.run("put", b, "k", stdin=b"x", env=e).ok("put after transient "
                                                     "credential failures")
        check(fake.calls >= 3, "the credentials asked for again")
        log = env.proxy.log()
        check_eq(len(log), 1, "one PUT, once credentials came")
        check("x-amz-security-token" in log[0]["headers"],
              "the session token sent: %r" % log[0]["headers"])
        check("x-amz-content-sha256" in log[0]["headers"] and
              "content-md5" not in log[0]["headers"],
              "the body's SHA-256 signed, no second hash (Content-MD5)")
    finally:
        fake.close()
    # No credentials anywhere: a configuration error, nothing sent.
    e = env.env()
    del e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"]
    fresh(env)
    r = env.run("put", b, "k", stdin=b"x", env=e).failed("no credentials")
    check_eq((r.status, r.code, r.retryable, r.config),
             (0, "NoCredentials", 0, 1), "the error")
    check_eq(env.proxy.log(), [], "nothing sent")


# ---- multipart operations -------------------------------------------------

def case_mpu_ops(env):
    b = env.bucket()
    p1 = os.path.join(env.tmp, "p1")
    p2 = os.path.join(env.tmp, "p2")
    d1, d2 = pattern(PART, 11), b"tail of the object"
    with open(p1, "wb") as f:
        f.write(d1)
    with open(p2, "wb") as f:
        f.write(d2)
    uid = env.run("mpu-create", b, "m/k").ok("create").text.strip()
    check(uid != "", "an upload id")
    e1 = env.run("mpu-part", b, "m/k", uid, 1, p1).ok("part 1").text.strip()
    e2 = env.run("mpu-part", b, "m/k", uid, 2, p2).ok("part 2").text.strip()
    check_eq(e1, '"%s"' % hashlib.md5(d1).hexdigest(), "part 1's ETag")
    r = env.run("mpu-list", b).ok("list uploads")
    check_eq([line.split() for line in r.text.splitlines()],
             [["m/k".encode().hex(), uid]], "the upload in progress")
    env.run("mpu-complete", b, "m/k", uid, e1, e2).ok("complete")
    check_eq(s3_util.read_object(env.boto, b, "m/k"), d1 + d2, "the object")
    fresh(env)
    env.run("mpu-abort", b, "m/k", uid).ok("abort of a completed upload")
    fresh(env, [{"method": "DELETE", "query": "uploadId", "action": "error",
                 "status": 404, "code": "NoSuchUpload"}])
    env.run("mpu-abort", b, "m/k", uid).ok("abort answered NoSuchUpload")
    check_eq([e["status"] for e in env.proxy.log()], [404], "one try")
    fresh(env, [{"method": "DELETE", "query": "uploadId", "action": "error",
                 "status": 403, "code": "AccessDenied"}])
    r = env.run("mpu-abort", b, "m/k", uid).failed("abort denied")
    check("s3:AbortMultipartUpload" in r.message, "the permission named: "
          + r.message)
    fresh(env)
    r = env.run("mpu-part", b, "m/k", uid, 10001, p2).failed("part 10001")
    check_eq(r.code, "InvalidPartNumber", "part number out of range")
    ids = {}
    for i in range(3):
        k = "up/%d" % i
        ids[k] = env.boto.create_multipart_upload(Bucket=b, Key=k)["UploadId"]
    r = env.run("mpu-list", b, "up/").ok("list uploads")
    got = [(bytes.fromhex(x.split()[0]).decode(), x.split()[1])
           for x in r.text.splitlines()]
    check_eq(got, sorted(ids.items()), "every upload under up/")
    for k, u in ids.items():
        env.run("mpu-abort", b, k, u).ok("abort")
    assert_no_uploads(env, b, "after the aborts")


class FakeUploads(LoopbackServer):
    """ListMultipartUploads alone, strictly (moto ignores max-uploads):
    pages of max-uploads entries after key-marker/upload-id-marker, in
    (key, upload id) order, as S3 documents it."""

    def __init__(self, uploads):
        self.uploads = sorted(uploads)
        self.queries = []
        fake = self

        class H(QuietHandler):
            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query,
                                                keep_blank_values=True))
                fake.queries.append(q)
                if "uploads" not in q or u.path != "/fakebkt":
                    return self.answer(400, "<Error><Code>InvalidRequest"
                                       "</Code></Error>")
                n = int(q.get("max-uploads", "1000"))
                km = q.get("key-marker", "")
                um = q.get("upload-id-marker", "")
                rest = [x for x in fake.uploads
                        if x[0].startswith(q.get("prefix", "")) and
                        (x[0] > km or (um and x[0] == km and x[1] > um))]
                page, more = rest[:n], len(rest) > n
                body = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                        "<ListMultipartUploadsResult><Bucket>fakebkt"
                        "</Bucket><MaxUploads>%d</MaxUploads>"
                        "<IsTruncated>%s</IsTruncated>"
                        % (n, "true" if more else "false")]
                if more:
                    body.append("<NextKeyMarker>%s</NextKeyMarker>"
                                "<NextUploadIdMarker>%s</NextUploadIdMarker>"
                                % tuple(html.escape(v) for v in page[-1]))
                for k, i in page:
                    body.append("<Upload><Key>%s</Key><UploadId>%s</UploadId>"
                                "<Initiated>2026-01-01T00:00:00.000Z"
                                "</Initiated></Upload>"
                                % (html.escape(k), html.escape(i)))
                body.append("</ListMultipartUploadsResult>")
                self.answer(200, "".join(body))

            def answer(self, status, text):
                self.send_body(status, text.encode())

        super().__init__(H)


def case_list_uploads_paging(env):
    # Two uploads of one key straddle a page end: both markers matter.
    uploads = [("a&b <c>", "id-1"), ("a&b <c>", "id-2"), ("k 1", "u+1/x"),
               ("k 2", "u=2"), ("k 2", "u=3"), ("zz\u00e9", "last")]
    fake = FakeUploads(uploads)
    try:
        r = env.run("mpu-list", "fakebkt", opts=["--page-size", "2"],
                    endpoint=fake.endpoint).ok("paged upload listing")
        got = [(bytes.fromhex(x.split()[0]).decode(), x.split()[1])
               for x in r.text.splitlines()]
        check_eq(got, sorted(uploads), "every upload, once, in order")
        check_eq([(q.get("max-uploads"), q.get("key-marker"),
                   q.get("upload-id-marker")) for q in fake.queries],
                 [("2", None, None), ("2", "a&b <c>", "id-2"),
                  ("2", "k 2", "u=2")], "the pages asked for")
    finally:
        fake.close()


# ---- signatures (moto in auth mode) ----------------------------------------

def case_auth(env):
    with MotoServer(auth=True) as m:
        key_id, secret = m.access_key
        c = s3_util.client(m.endpoint, key_id, secret)
        s3_util.make_bucket(c, "authbkt")
        good = env.env(key_id, secret)
        env.run("put", "authbkt", "plain key", stdin=b"signed",
                endpoint=m.endpoint, env=good).ok("signed put")
        r = env.run("get", "authbkt", "plain key", endpoint=m.endpoint,
                    env=good).ok("signed get")
        check_eq(r.out, b"signed", "the object")
        r = env.run("list", "authbkt", endpoint=m.endpoint, env=good)
        check_eq(r.ok("signed list").text.split()[0],
                 "plain key".encode().hex(), "the listing")
        env.run("write", "authbkt", "w", PART + 9, opts=[
            "--part-size", str(PART)], endpoint=m.endpoint,
            env=good).ok("signed multipart write")
        check_eq(s3_util.read_object(c, "authbkt", "w"), pattern(PART + 9),
                 "the multipart object")

        wrong = "Wr0ngSecretThatMustNotLeak/" + secret[:8]
        r = env.run("put", "authbkt", "k", stdin=b"x", endpoint=m.endpoint,
                    env=env.env(key_id, wrong)).failed("wrong secret")
        check_eq((r.status, r.code, r.config, r.retryable),
                 (403, "SignatureDoesNotMatch", 1, 0), "the error")
        check("secret_access_key" in r.message, "the fix: " + r.message)
        for out in (r.err, r.text):
            check(wrong not in out and secret not in out,
                  "a secret in the output")
        check("Signature=" not in r.err and "AWS4-HMAC" not in r.err,
              "the Authorization header in the output")

        r = env.run("get", "authbkt", "plain key", endpoint=m.endpoint,
                    env=env.env("AKIAUNKNOWNKEY000000", secret)) \
            .failed("unknown key id")
        check_eq((r.status, r.code, r.config),
                 (403, "InvalidAccessKeyId", 1), "the error")
        check(secret not in r.err, "the secret in the output")


CASES = [case_roundtrip, case_keys, case_list_paging, case_no_such_bucket,
         case_addressing, case_writer_small, case_writer_large,
         case_writer_checksums, case_writer_lent_client,
         case_writer_stdin, case_writer_abort, case_writer_bad_options,
         case_slowdown_on_part, case_reset_on_put, case_reset_mid_body_get,
         case_conflict_and_500, case_retries_run_out, case_complete_error_200,
         case_complete_gone_after_success, case_permanent_failure_aborts,
         case_connect_refused, case_credentials, case_mpu_ops,
         case_list_uploads_paging, case_auth]


def main():
    if len(sys.argv) < 2:
        print("usage: s3_client.py NET_TOOLS_S3 [CASE]")
        return 2
    if not have_moto():
        print("skipped: no moto_server or boto3")
        return 77
    only = sys.argv[2] if len(sys.argv) > 2 else None
    passed = failed = 0
    with MotoServer() as moto, FaultProxy(moto.endpoint) as proxy:
        env = Env(os.path.abspath(sys.argv[1]), moto, proxy)
        try:
            for case in CASES:
                if only and only not in case.__name__:
                    continue
                fresh(env)
                try:
                    case(env)
                    passed += 1
                    print("ok %s" % case.__name__, flush=True)
                except Exception as e:  # a failure, or a broken case
                    failed += 1
                    print("FAIL %s: %s" % (case.__name__, e), flush=True)
                    if not isinstance(e, Failure):
                        traceback.print_exc()
                    if "moto" in str(e).lower():
                        print(moto.log_tail())
        finally:
            env.close()
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
