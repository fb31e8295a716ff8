#!/usr/bin/env python3
"""A scripted HTTP peer for the SDK's HTTP client tests.

usage: http_peer.py [--tls-dir DIR]

Listens on free loopback ports and prints one line when ready:
    READY <http port> <https port or 0> <CA file or ->
With --tls-dir it makes a throwaway CA and a server certificate for
IP:127.0.0.1 (only: "localhost" is a name mismatch) in DIR with the openssl
command, and serves the same paths over HTTPS on the second port.

Behaviours by path (the query string is read where named):
  /echo                 JSON: method, path, length and sha256 of the
                        request body, request headers; sends the response
                        header "X-Echo-Test:   padded value  "
  /status/CODE          that status; ?retry_after=S adds Retry-After
  /big/N                N bytes of the pattern bytes(range(251)) repeated
  /reset                closes the connection with a TCP reset, no answer
  /close                closes the connection cleanly, no answer
  /reset-after-headers  announces 100000 bytes, sends 1000, closes
  /stall                sends headers, then nothing until the client leaves
  /slow-body            ?pieces=N&gap_ms=M: N bytes "0123456789..." one at
                        a time, M ms apart
  /flaky/KEY/N          503 for the first N requests of KEY, then /echo;
                        ?retry_after=S adds Retry-After to the 503s
  /conn/KEY             the number of distinct connections that asked KEY
  /redirect             302 to /echo
A request with "Expect: 100-continue" gets an interim 100 response that
carries "X-Interim: yes" (which must not show in the final response).
"""
import hashlib
import http.server
import json
import os
import select
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

from loopback_http import QuietHandler

PATTERN = bytes(range(251))
STATE_LOCK = threading.Lock()
FLAKY = {}
CONNS = {}


def make_certs(d):
    """A CA and a server certificate for IP:127.0.0.1, with openssl."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = (os.path.join(d, n) for n in ("srv.key", "srv.csr", "srv.pem"))
    ext = os.path.join(d, "srv.ext")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=dray throwaway test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-new", *ec, "-keyout", key, "-out", csr,
        "-subj", "/CN=dray test server")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return ca, crt, key


class Handler(QuietHandler):
    tls_context = None  # set on the HTTPS server's subclass

    def setup(self):
        if self.tls_context is not None:
            self.request.settimeout(10)
            self.request = self.tls_context.wrap_socket(self.request,
                                                        server_side=True)
            self.request.settimeout(None)
        super().setup()

    def handle_expect_100(self):
        self.wfile.write(b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n")
        self.wfile.flush()
        return True

    # ---- helpers -------------------------------------------------------

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def echo(self, body):
        doc = {
            "method": self.command,
            "path": self.path,
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "headers": [[k, v] for k, v in self.headers.items()],
        }
        self.reply(200, json.dumps(doc).encode(),
                   [("Content-Type", "application/json"),
                    ("X-Echo-Test", "  padded value  ")])

    # ---- dispatch ------------------------------------------------------

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.strip("/").split("/")
        body = self.read_body()
        name = parts[0]
        if name == "echo":
            self.echo(body)
        elif name == "status":
            extra = []
            if "retry_after" in query:
                extra.append(("Retry-After", query["retry_after"]))
            self.reply(int(parts[1]), b"status %s\n" % parts[1].encode(), extra)
        elif name == "big":
            self.big(int(parts[1]))
        elif name == "reset":
            # Lingering 0 s turns the close into a TCP reset.
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.request.close()
            self.close_connection = True
        elif name == "close":
            self.close_connection = True
        elif name == "reset-after-headers":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(PATTERN * 4)
            self.wfile.flush()
            self.close_connection = True
        elif name == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            self.wait_for_client_to_leave(60)
            self.close_connection = True
        elif name == "slow-body":
            self.slow_body(int(query.get("pieces", "10")),
                           int(query.get("gap_ms", "200")))
        elif name == "flaky":
            with STATE_LOCK:
                seen = FLAKY.get(parts[1], 0)
                FLAKY[parts[1]] = seen + 1
            if seen < int(parts[2]):
                extra = []
                if "retry_after" in query:
                    extra.append(("Retry-After", query["retry_after"]))
                self.reply(503, b"<Error><Code>SlowDown</Code></Error>", extra)
            else:
                self.echo(body)
        elif name == "conn":
            with STATE_LOCK:
                seen = CONNS.setdefault(parts[1], set())
                seen.add(self.client_address)
                count = len(seen)
            self.reply(200, str(count).encode())
        elif name == "redirect":
            self.reply(302, b"", [("Location", "/echo")])
        else:
            self.reply(404, b"no such behaviour\n")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = dispatch

    def big(self, n):
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        block = PATTERN * (1 << 12)  # about 1 MB, a whole number of patterns
        left = n
        while left > 0:
            chunk = block[: min(left, len(block))]
            self.wfile.write(chunk)
            left -= len(chunk)

    def slow_body(self, pieces, gap_ms):
        data = bytes(b"0123456789"[i % 10] for i in range(pieces))
        self.send_response(200)
        self.send_header("Content-Length", str(pieces))
        self.end_headers()
        self.wfile.flush()
        for i in range(pieces):
            time.sleep(gap_ms / 1000.0)
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()

    def wait_for_client_to_leave(self, limit_s):
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            r, _, _ = select.select([self.request], [], [], 0.2)
            if r:
                try:
                    if not self.request.recv(4096):
                        return
                except OSError:
                    return


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # handshakes that the client refuses, resets: expected here


def main():
    tls_dir = None
    if len(sys.argv) == 3 and sys.argv[1] == "--tls-dir":
        tls_dir = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit(__doc__)
    plain = Server(("127.0.0.1", 0), Handler)
    servers = [plain]
    tls_port, ca = 0, "-"
    if tls_dir:
        ca, crt, key = make_certs(tls_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        tls_handler = type("TlsHandler", (Handler,), {"tls_context": ctx})
        tls = Server(("127.0.0.1", 0), tls_handler)
        servers.append(tls)
        tls_port = tls.server_address[1]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("READY %d %d %s" % (plain.server_address[1], tls_port, ca), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
