#!/usr/bin/env python3
"""The SDK's HTTP client (dray_http.h) against a scripted peer.

usage: http_client.py TOOLS_HTTP

Starts http_peer.py (plain HTTP and HTTPS with a throwaway CA), runs the
tools_http driver through the cases below and checks what it reports
against what the peer saw: request bodies by sha256, headers, transport
outcomes, connection reuse, retries.
"""
import hashlib
import os
import select
import socket
import subprocess
import sys
import tempfile
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PATTERN = bytes(range(251))
TOOL = None
PLAIN = TLS = None
CA = None
WORK = None
# The driver must not go through a proxy the environment names.
ENV = {k: v for k, v in os.environ.items()
       if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}

T_OK, T_CONNECT, T_TIMEOUT, T_RESET, T_TLS = 0, 1, 2, 3, 4
T_TOO_LARGE, T_CANCELLED, T_BODY = 5, 6, 7


class Failure(Exception):
    pass


def check(cond, what, result=None):
    if not cond:
        extra = "" if result is None else "\n  driver said: %r" % (result,)
        raise Failure(what + extra)


def drive(path, *args, base=None, timeout=120):
    """Runs tools_http on base+path; returns its key/value report."""
    url = (base or PLAIN) + path
    proc = subprocess.run([TOOL, *args, url], capture_output=True, env=ENV,
                          timeout=timeout)
    head, sep, body = proc.stdout.partition(b"\nbody\n")
    if proc.returncode != 0 or not sep:
        raise Failure("tools_http %s %s: exit %d\n%s%s" % (
            " ".join(args), url, proc.returncode, proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace")))
    out = {"body": body}
    for line in head.decode().split("\n"):
        k, _, v = line.partition(" ")
        out[k] = v
    for k in ("rc", "status", "transport", "tries", "body_len", "sink_bytes",
              "sink_error"):
        out[k] = int(out[k])
    return out


def echoed(r):
    import json
    check(r["rc"] == 0 and r["status"] == 200, "expected a 200 from /echo", r)
    doc = json.loads(r["body"])
    doc["hdr"] = {k.lower(): v for k, v in doc["headers"]}
    return doc


def sha(b):
    return hashlib.sha256(b).hexdigest()


def pattern(n):
    return (PATTERN * (n // len(PATTERN) + 1))[:n]


def write_file(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def key():
    return uuid.uuid4().hex[:12]


# ---- request bodies ------------------------------------------------------

def case_memory_body():
    data = os.urandom(300_000)
    r = echoed(drive("/echo", "-X", "PUT", "--data-file", write_file("m", data)))
    check(r["method"] == "PUT", "method PUT", r)
    check(r["length"] == len(data) and r["sha256"] == sha(data), "body intact", r)
    check("expect" not in r["hdr"], "no Expect: 100-continue by default", r)
    check(r["hdr"]["user-agent"].startswith("dray/"), "user agent", r)
    check("content-type" not in r["hdr"], "no Content-Type on PUT", r)


def case_file_range_body():
    data = os.urandom(3_000_000)
    path = write_file("f", data)
    r = echoed(drive("/echo", "-X", "PUT", "--file", path, "1000", "2000000"))
    want = data[1000:2001000]
    check(r["length"] == len(want) and r["sha256"] == sha(want), "range intact", r)
    check(r["hdr"].get("content-length") == str(len(want)), "Content-Length", r)


def case_callback_body():
    data = os.urandom(1_500_000)
    path = write_file("c", data)
    r = echoed(drive("/echo", "-X", "PUT", "--cb", path))
    check(r["sha256"] == sha(data), "callback body intact", r)
    check(r["hdr"].get("content-length") == str(len(data)), "known length", r)
    r = echoed(drive("/echo", "-X", "POST", "--cb-chunked", path))
    check(r["sha256"] == sha(data) and r["length"] == len(data),
          "chunked body intact", r)
    check(r["hdr"].get("transfer-encoding") == "chunked", "sent chunked", r)


def case_post_content_type():
    r = echoed(drive("/echo", "-X", "POST", "--data", "<Delete/>"))
    check(r["method"] == "POST" and r["sha256"] == sha(b"<Delete/>"), "POST body", r)
    check("content-type" not in r["hdr"], "no form-urlencoded default", r)
    r = echoed(drive("/echo", "-X", "POST"))
    check(r["length"] == 0 and r["hdr"].get("content-length") == "0",
          "empty POST sends Content-Length: 0", r)
    check("content-type" not in r["hdr"], "no Content-Type on an empty POST", r)
    r = echoed(drive("/echo", "-X", "POST", "-H", "Content-Type: application/xml",
                     "--data", "<a/>"))
    check(r["hdr"].get("content-type") == "application/xml", "caller's type", r)


def case_headers():
    r = echoed(drive("/echo", "-H", "X-Custom: v1", "-R", "Accept",
                     "-H", "User-Agent: mine/2", "--show-header", "x-echo-test"))
    check(r["hdr"].get("x-custom") == "v1", "custom header sent", r)
    check("accept" not in r["hdr"], "NULL value removes curl's Accept", r)
    check(r["hdr"].get("user-agent") == "mine/2", "caller's User-Agent", r)
    r2 = drive("/echo", "--show-header", "X-ECHO-TEST")
    check(r2["header"] == "padded value", "header lookup trims, any case", r2)


def case_expect_continue():
    data = os.urandom(200_000)
    r = drive("/echo", "-X", "PUT", "--data-file", write_file("e", data),
              "-H", "Expect: 100-continue", "--show-header", "X-Interim")
    doc = echoed(r)
    check(doc["hdr"].get("expect") == "100-continue", "caller's Expect sent", r)
    check(doc["sha256"] == sha(data), "body after 100 Continue", r)
    check(r["header"] == "(absent)", "headers of the 100 are dropped", r)


def case_methods():
    r = echoed(drive("/echo", "-X", "DELETE"))
    check(r["method"] == "DELETE" and r["length"] == 0, "DELETE", r)
    r = drive("/big/1000", "-X", "HEAD", "--show-header", "content-length")
    check(r["status"] == 200 and r["body_len"] == 0, "HEAD has no body", r)
    check(r["header"] == "1000", "HEAD headers", r)
    r = drive("/redirect", "--show-header", "location")
    check(r["status"] == 302 and r["header"] == "/echo", "redirect not followed", r)


# ---- responses -----------------------------------------------------------

def case_response_cap():
    r = drive("/big/100000", "--max", "50000")
    check(r["rc"] == -1 and r["transport"] == T_TOO_LARGE and r["status"] == 0,
          "over the cap: T_TOO_LARGE", r)
    check("max_response_bytes" in r["error"], "the error names the cap", r)
    r = drive("/big/50000", "--max", "50000")
    check(r["rc"] == 0 and r["body_len"] == 50000 and
          r["body_sha256"] == sha(pattern(50000)), "exactly the cap fits", r)
    r = drive("/status/500", "--max", "5")
    check(r["transport"] == T_TOO_LARGE, "error bodies are capped too", r)


def case_sink_50mb():
    n = 50 * 1024 * 1024
    r = drive("/big/%d" % n, "--sink", "--max", "1000")
    check(r["rc"] == 0 and r["status"] == 200, "streamed download", r)
    check(r["sink_bytes"] == n and r["sink_sha256"] == sha(pattern(n)),
          "sink got every byte", r)
    check(r["body_len"] == 0, "nothing collected", r)


def case_sink_not_for_errors():
    r = drive("/status/404", "--sink")
    check(r["status"] == 404 and r["body"] == b"status 404\n", "404 collected", r)
    check(r["sink_bytes"] == 0, "sink untouched", r)


def case_sink_error():
    r = drive("/big/1000000", "--sink", "--sink-fail-at", "500000")
    check(r["rc"] == -1 and r["transport"] == T_BODY and r["sink_error"] == -7,
          "sink error: T_BODY with its code", r)


def case_body_source_errors():
    data = os.urandom(400_000)
    path = write_file("b", data)
    r = drive("/echo", "-X", "PUT", "--cb", path, "--cb-fail-at", "100000")
    check(r["rc"] == -1 and r["transport"] == T_BODY, "callback -1: T_BODY", r)
    r = drive("/echo", "-X", "PUT", "--file", path, "0", str(len(data) + 100))
    check(r["transport"] == T_BODY and "ended" in r["error"],
          "short file: T_BODY", r)


# ---- transport failures --------------------------------------------------

def case_resets():
    for path in ("/reset", "/close", "/reset-after-headers"):
        r = drive(path)
        check(r["rc"] == -1 and r["transport"] == T_RESET and r["status"] == 0,
              path + ": T_RESET", r)
        check(r["error"] != "", path + ": error text", r)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d" % port


def case_connect_refused():
    r = drive("/", base=closed_port())
    check(r["rc"] == -1 and r["transport"] == T_CONNECT, "closed port: T_CONNECT", r)


def case_stall_timeout():
    r = drive("/stall", "--stall-ms", "1000")
    check(r["rc"] == -1 and r["transport"] == T_TIMEOUT, "stall: T_TIMEOUT", r)


def case_slow_body():
    r = drive("/slow-body?pieces=8&gap_ms=250", "--stall-ms", "2000")
    check(r["rc"] == 0 and r["body"] == b"01234567",
          "a slow but moving body is not a stall", r)
    r = drive("/slow-body?pieces=40&gap_ms=250", "--timeout-ms", "700")
    check(r["rc"] == -1 and r["transport"] == T_TIMEOUT, "whole timeout", r)


def case_keep_alive():
    k = key()
    r = drive("/conn/" + k, "--repeat", "20")
    check("repeat_failed_at" not in r and r["body"] == b"1",
          "20 GETs on one connection", r)
    k = key()
    r = drive("/conn/" + k, "-X", "PUT", "--data", "x" * 5000, "--repeat", "20")
    check("repeat_failed_at" not in r and r["body"] == b"1",
          "20 PUTs on one connection", r)


def case_cancel():
    r = drive("/stall", "--stall-ms", "60000", "--cancel-after-ms", "300")
    check(r["rc"] == -1 and r["transport"] == T_CANCELLED, "cancel: T_CANCELLED", r)


# ---- retries -------------------------------------------------------------

def case_call_flaky():
    data = os.urandom(100_000)
    path = write_file("r", data)
    r = drive("/flaky/%s/2" % key(), "-X", "PUT", "--data-file", path,
              "--call", "--attempts", "5", "--base-ms", "10")
    doc = echoed(r)
    check(r["tries"] == 3, "two 503s then 200: 3 tries", r)
    check(doc["sha256"] == sha(data), "memory body re-sent intact", r)
    check(doc["hdr"].get("x-attempt") == "3", "prepare ran for each try", r)
    r = drive("/flaky/%s/1" % key(), "-X", "PUT", "--file", path, "10", "5000",
              "--call", "--base-ms", "10")
    doc = echoed(r)
    check(r["tries"] == 2 and doc["sha256"] == sha(data[10:5010]),
          "file body re-sent intact", r)
    r = drive("/flaky/%s/10" % key(), "--call", "--attempts", "3", "--base-ms", "10")
    check(r["tries"] == 3 and r["status"] == 503 and r["rc"] == 0,
          "gives up after max_attempts with the last response", r)


def case_call_no_retry():
    r = drive("/status/400", "--call", "--base-ms", "10")
    check(r["tries"] == 1 and r["status"] == 400, "a 400 is not retried", r)
    path = write_file("n", b"callback body")
    r = drive("/flaky/%s/1" % key(), "-X", "PUT", "--cb", path, "--call",
              "--base-ms", "10")
    check(r["tries"] == 1 and r["status"] == 503, "a callback body is not retried", r)
    r = drive("/big/1000", "--sink", "--sink-fail-at", "10", "--call",
              "--base-ms", "10")
    check(r["tries"] == 1 and r["transport"] == T_BODY, "T_BODY is not retried", r)


def case_call_transport_retry():
    r = drive("/", "--call", "--attempts", "3", "--base-ms", "10", base=closed_port())
    check(r["tries"] == 3 and r["transport"] == T_CONNECT, "T_CONNECT retried", r)
    r = drive("/reset", "--call", "--attempts", "2", "--base-ms", "10")
    check(r["tries"] == 2 and r["transport"] == T_RESET, "T_RESET retried", r)


def case_call_backoff():
    r = drive("/flaky/%s/3" % key(), "--call", "--fake-sleep", "--base-ms", "100",
              "--cap-ms", "1000")
    waits = [int(x) for x in r["sleeps"].split(",")]
    check(r["tries"] == 4 and len(waits) == 3, "three back-offs", r)
    for w, d in zip(waits, (100, 200, 400)):
        check(d // 2 <= w <= d, "back-off %d in [%d, %d]" % (w, d // 2, d), r)
    r = drive("/flaky/%s/1?retry_after=3" % key(), "--call", "--fake-sleep",
              "--base-ms", "100", "--cap-ms", "1000")
    check(r["sleeps"] == "3000", "Retry-After honoured", r)
    r = drive("/flaky/%s/1?retry_after=100" % key(), "--call", "--fake-sleep",
              "--base-ms", "100", "--cap-ms", "1000")
    check(r["sleeps"] == "4000", "Retry-After capped at cap_ms * 4", r)


def case_call_cancel_in_backoff():
    r = drive("/status/503", "--call", "--base-ms", "60000", "--cap-ms", "60000",
              "--cancel-after-ms", "300", timeout=50)
    check(r["tries"] == 1 and r["status"] == 503,
          "cancel during the back-off ends the call with the last try", r)


# ---- TLS -----------------------------------------------------------------

def case_tls():
    r = drive("/echo", base=TLS)
    check(r["rc"] == -1 and r["transport"] == T_TLS,
          "unknown CA without ca_bundle: T_TLS", r)
    r = echoed(drive("/echo", "-X", "PUT", "--data", "over tls", "--ca", CA,
                     base=TLS))
    check(r["sha256"] == sha(b"over tls"), "with the CA bundle: works", r)
    r = drive("/echo", "--ca", CA, base=TLS.replace("127.0.0.1", "localhost"))
    check(r["rc"] == -1 and r["transport"] == T_TLS and "localhost" in r["error"],
          "hostname mismatch: T_TLS", r)
    r = drive("/echo", "--ca", CA, base=TLS.replace("https:", "http:"))
    check(r["rc"] == -1 and r["status"] == 0, "plain HTTP to a TLS port fails", r)
    r = drive("/echo", base=PLAIN.replace("http:", "ftp:"))
    check(r["rc"] == -1 and "ftp" in r["error"].lower(), "only http(s)", r)


CASES = [v for k, v in list(globals().items()) if k.startswith("case_")]


def start_peer(tls_dir):
    peer = subprocess.Popen([sys.executable, os.path.join(HERE, "http_peer.py"),
                             "--tls-dir", tls_dir], stdout=subprocess.PIPE)
    ready, _, _ = select.select([peer.stdout], [], [], 60)
    line = peer.stdout.readline().decode().split() if ready else []
    if len(line) != 4 or line[0] != "READY":
        peer.kill()
        peer.wait()
        sys.exit("http_peer.py did not start: %r" % (line,))
    return peer, line


def main():
    global TOOL, PLAIN, TLS, CA, WORK
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    TOOL = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="dray-http-") as work:
        WORK = work
        peer, line = start_peer(work)
        try:
            PLAIN = "http://127.0.0.1:%s" % line[1]
            TLS = "https://127.0.0.1:%s" % line[2]
            CA = line[3]
            for case in CASES:
                if only not in case.__name__:
                    continue
                try:
                    case()
                    passed += 1
                    print("ok", case.__name__, flush=True)
                except Exception as e:
                    failed += 1
                    print("FAIL", case.__name__, flush=True)
                    if isinstance(e, Failure):
                        print("  " + str(e), flush=True)
                    else:
                        traceback.print_exc()
        finally:
            peer.kill()
            peer.wait()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    main()
