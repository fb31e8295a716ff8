"""What the tests' own HTTP servers share (the scripted peer http_peer.py,
tests/s3/fault_proxy.py and the small fakes of the S3 tests):

- QuietHandler: a request handler that speaks HTTP/1.1, logs nothing,
  reads a request's body whether it came with Content-Length or chunked,
  and sends an answer with its length;
- LoopbackServer: a threading HTTP server on 127.0.0.1 and a free port,
  served from a daemon thread until close().

Import it by name with this folder on sys.path.
"""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass  # a test asserts on what it sees, not on a server's log

    def read_body(self):
        """The request's body: chunked (trailers skipped) or of
        Content-Length bytes (none when absent)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_body(self, status, body, ctype="application/xml"):
        """An answer of status with body (bytes), none to a HEAD."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class LoopbackServer:
    """handler served on 127.0.0.1 at a port the system picks, from a
    daemon thread that starts at once; close() stops it."""

    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
