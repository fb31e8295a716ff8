"""An HTTP proxy in front of a fake S3 (moto) that injects scripted faults
and records every request, for tests of retries and clean-up.

In a test:

    with FaultProxy(moto.endpoint) as p:
        p.set_faults([{"method": "PUT", "query": "partNumber",
                       "action": "slowdown", "first": 2}])
        ... point the client at p.endpoint ...
        p.log()        # [{"method", "path", "query", "host", "headers"
                       #   (names only), "checksums" (the values of the
                       #   x-amz-checksum-* and x-amz-sdk-checksum-*
                       #   headers), "part_crc32s" (a POST body's
                       #   <ChecksumCRC32> texts), "conn" (the client's
                       #   port: one per connection), "status", "fault"},
                       #   ...]

Or as a process (for tests in another language or process):

    python3 fault_proxy.py --upstream http://127.0.0.1:PORT [--port N]
    # prints "port N" once listening; then
    # POST /__faults  {"rules": [...]}   replace the rules (counts reset)
    # GET  /__faults                     the rules with their counts
    # GET  /__log, DELETE /__log         the requests seen / forget them

Requests are forwarded as they came: method, path and query bytes, every
header including Host (so virtual-hosted names and signatures survive),
and the body; responses are streamed back. Like S3 and unlike moto, the
proxy checks x-amz-content-sha256, Content-MD5 and x-amz-checksum-crc32
against the body (400 XAmzContentSHA256Mismatch / BadDigest).

A rule matches a request by
  method   "PUT" (any when absent)
  query    a query parameter name that must be present ("partNumber",
           "uploadId", "uploads", "list-type"), "!name" for one that must
           be absent, or a list of such
  path     a substring of the path (percent-encoded, as sent)
and fires on some of its matches (counted 1, 2, ... per rule):
  at       a list of match numbers ([1, 2])
  first    the first N matches
  every    every Kth match
  (none of them: every match). The first rule that fires decides.
Actions:
  slowdown      503 with an S3 <Error><Code>SlowDown</Code>
  internal      500 InternalError
  conflict      409 ConditionalRequestConflict
  error         "status" and "code" as given (e.g. 403 AccessDenied)
  reset         the connection is reset without an answer; with
                "forward": true the request reaches S3 first (done, but
                the client never hears)
  reset_body    forwarded; the answer's headers and half its body, then
                the connection is closed (a body cut short)
  error_200     200 with an <Error> body ("code", default InternalError),
                as S3 may answer CompleteMultipartUpload; with "forward":
                true S3 did the work first (as AWS can), else not
  stall         not forwarded and not answered: the request hangs until
                the client goes away or "ms" (default 60000) pass, then
                the connection is reset; a test that kills a client in the
                middle of a request waits for its log entry
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "sdk", "net"))
from loopback_http import QuietHandler  # noqa: E402

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate",
              "proxy-authorization", "te", "trailer", "trailers",
              "transfer-encoding", "upgrade", "expect"}

CANNED = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal": (500, "InternalError",
                 "We encountered an internal error. Please try again."),
    "conflict": (409, "ConditionalRequestConflict",
                 "A conflicting operation occurred. Please try again."),
}


def error_body(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
            "</Code><Message>%s</Message><RequestId>FAULTPROXY</RequestId>"
            "</Error>" % (code, message)).encode()


class Rule:
    def __init__(self, spec):
        self.spec = dict(spec)
        self.count = 0  # matches so far
        self.fired = 0
        q = spec.get("query") or []
        self.query = [q] if isinstance(q, str) else list(q)

    def matches(self, method, path, params):
        s = self.spec
        if s.get("method") and s["method"].upper() != method:
            return False
        if s.get("path") and s["path"] not in path:
            return False
        for q in self.query:
            if q.startswith("!"):
                if q[1:] in params:
                    return False
            elif q not in params:
                return False
        return True

    def fires(self):
        s = self.spec
        n = self.count
        if "at" in s:
            return n in s["at"]
        if "first" in s:
            return n <= s["first"]
        if "every" in s:
            return n % s["every"] == 0
        return True

    def as_json(self):
        d = dict(self.spec)
        d["matched"] = self.count
        d["fired"] = self.fired
        return d


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # resets are on purpose; a test asserts on the log instead


class _Handler(QuietHandler):
    # ---- plumbing ----

    def _reset(self):
        """Closes with a TCP reset: no answer at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _stall(self, ms):
        """Waits until the client closes its end or ms pass."""
        deadline = time.monotonic() + ms / 1000.0
        sock = self.connection
        while time.monotonic() < deadline:
            r, _, _ = select.select([sock], [], [], 0.05)
            if not r:
                continue
            try:
                if sock.recv(1, socket.MSG_PEEK) == b"":
                    return  # the client is gone
            except OSError:
                return
            time.sleep(0.05)  # bytes of a next request: keep waiting

    def _forward(self, body):
        """Sends the request upstream; returns (status, reason, headers,
        response) with the body still to read."""
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        conn.putrequest(self.command, self.path, skip_host=True,
                        skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() not in HOP_BY_HOP and \
                    name.lower() != "content-length":
                conn.putheader(name, value)
        if body or self.command in ("PUT", "POST"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        r = conn.getresponse()
        return conn, r

    def _relay(self, conn, r, cut=False):
        """Streams upstream's answer back; cut: half the body, then
        close."""
        body = None
        length = r.getheader("Content-Length")
        if length is None and self.command != "HEAD":
            body = r.read()
            length = str(len(body))
        self.send_response(r.status, r.reason)
        for name, value in r.getheaders():
            if name.lower() not in HOP_BY_HOP and \
                    name.lower() != "content-length":
                self.send_header(name, value)
        if cut:
            length = str(int(length or 0) + 64)  # promise more than comes
        self.send_header("Content-Length", length or "0")
        self.end_headers()
        if self.command == "HEAD":
            conn.close()
            return
        if body is not None:
            chunks = [body]
        else:
            chunks = iter(lambda: r.read(1 << 16), b"")
        if cut:
            data = b"".join(chunks)
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            conn.close()
            self._reset()
            return
        for c in chunks:
            self.wfile.write(c)
        conn.close()

    def _digest_mismatch(self, body):
        """S3's own checks that moto skips: x-amz-content-sha256 and
        Content-MD5 against the body. The error code, or None."""
        sha = self.headers.get("x-amz-content-sha256")
        if sha and sha != "UNSIGNED-PAYLOAD" and \
                not sha.startswith("STREAMING-") and \
                sha != hashlib.sha256(body).hexdigest():
            return "XAmzContentSHA256Mismatch"
        md5 = self.headers.get("Content-MD5")
        if md5 is not None and \
                md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
            return "BadDigest"
        crc = self.headers.get("x-amz-checksum-crc32")
        if crc is not None and crc != base64.b64encode(
                zlib.crc32(body).to_bytes(4, "big")).decode():
            return "BadDigest"
        return None

    # ---- control ----

    def _control(self, path, body):
        srv = self.server
        if path == "/__faults":
            if self.command == "POST":
                spec = json.loads(body or b"[]")
                rules = spec.get("rules", []) if isinstance(spec, dict) \
                    else spec
                srv.set_faults(rules)
            with srv.lock:
                out = [r.as_json() for r in srv.rules]
            return self.send_body(200, json.dumps(out).encode(),
                                  "application/json")
        if path == "/__log":
            if self.command == "DELETE":
                srv.clear_log()
            return self.send_body(200, json.dumps(srv.log()).encode(),
                                  "application/json")
        return self.send_body(404, b"no such control endpoint", "text/plain")

    # ---- requests ----

    def _handle(self):
        body = self.read_body()
        parts = urllib.parse.urlsplit(self.path)
        if parts.path.startswith("/__"):
            return self._control(parts.path, body)
        params = {k for k, _ in urllib.parse.parse_qsl(
            parts.query, keep_blank_values=True)}
        rule = self.server.pick(self.command, parts.path, params)
        entry = {"method": self.command, "path": parts.path,
                 "query": parts.query, "host": self.headers.get("Host"),
                 "headers": sorted({k.lower() for k in self.headers.keys()}),
                 "checksums": {k.lower(): v for k, v in self.headers.items()
                               if k.lower().startswith(("x-amz-checksum-",
                                                        "x-amz-sdk-checksum-"))},
                 "part_crc32s": [m.decode() for m in re.findall(
                     rb"<ChecksumCRC32>([^<]*)</ChecksumCRC32>", body)]
                 if self.command == "POST" else [],
                 "conn": self.client_address[1],
                 "status": None, "fault": rule.spec["action"] if rule
                 else None}
        self.server.record(entry)
        action = rule.spec["action"] if rule else None
        bad = self._digest_mismatch(body)
        if bad is not None:  # as S3 would, before any fault
            entry["status"] = 400
            return self.send_body(400, error_body(bad, "Digest mismatch."))
        if action in CANNED or action == "error":
            status, code, msg = CANNED.get(action) or (
                int(rule.spec.get("status", 500)),
                rule.spec.get("code", "InternalError"),
                rule.spec.get("message", "Injected by the fault proxy."))
            entry["status"] = status
            return self.send_body(status, error_body(code, msg))
        if action == "reset":
            if rule.spec.get("forward"):
                conn, r = self._forward(body)
                r.read()
                conn.close()
            return self._reset()
        if action == "stall":
            self._stall(int(rule.spec.get("ms", 60000)))
            return self._reset()
        if action == "error_200":
            if rule.spec.get("forward"):
                conn, r = self._forward(body)
                r.read()
                conn.close()
            entry["status"] = 200
            return self.send_body(200, error_body(
                rule.spec.get("code", "InternalError"),
                "We encountered an internal error. Please try again."))
        conn, r = self._forward(body)
        entry["status"] = r.status
        self._relay(conn, r, cut=action == "reset_body")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


class FaultProxy:
    """The proxy on 127.0.0.1 (a free port unless given), in a thread of
    this process."""

    def __init__(self, upstream, rules=None, port=0):
        self.server = _Server(("127.0.0.1", port), _Handler)
        srv = self.server
        srv.upstream = urllib.parse.urlsplit(upstream)
        srv.lock = threading.Lock()
        srv.rules = []
        srv.entries = []
        srv.set_faults = self.set_faults
        srv.pick = self._pick
        srv.record = self._record
        srv.log = self.log
        srv.clear_log = self.clear_log
        self.set_faults(rules or [])
        self.thread = None

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def set_faults(self, rules):
        with self.server.lock:
            self.server.rules = [Rule(r) for r in rules]

    def rules(self):
        with self.server.lock:
            return [r.as_json() for r in self.server.rules]

    def _pick(self, method, path, params):
        with self.server.lock:
            chosen = None
            for r in self.server.rules:
                if r.matches(method, path, params):
                    r.count += 1
                    if chosen is None and r.fires():
                        r.fired += 1
                        chosen = r
            return chosen

    def _record(self, entry):
        with self.server.lock:
            self.server.entries.append(entry)

    def log(self):
        with self.server.lock:
            return [dict(e) for e in self.server.entries]

    def clear_log(self):
        with self.server.lock:
            self.server.entries = []

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join()
            self.thread = None
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    p = FaultProxy(a.upstream, port=a.port)
    print("port %d" % p.port, flush=True)
    try:
        p.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
