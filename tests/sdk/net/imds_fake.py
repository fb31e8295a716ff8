#!/usr/bin/env python3
"""A fake EC2 instance metadata service (IMDSv2 only) and container
credentials endpoint on a free loopback port, for aws_creds.py.

    imds_fake.py --secret S [--container-token T] [--role R]

Prints the port on its first line, then serves until killed.

IMDSv2, strictly:
  PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds (an
      integer 1..21600), else 400; answers a new token.
  GET /latest/meta-data/iam/security-credentials/ and .../<role> need a
      token it gave in X-aws-ec2-metadata-token, else 401; the first
      answers the role name, the second the credentials JSON.
Container: GET /container/creds needs Authorization equal to the
  --container-token, else 401.

Credentials: AccessKeyId ASIAFAKE0001, 0002, ... (one number per fetch;
ASIACONT... for the container), the --secret, a Token, and an Expiration
set through the control endpoint.

Control:
  POST /_control with a JSON object:
    expiration: "2099-01-01T00:00:00Z" (absolute), or
    expires_in: seconds from each fetch;
    token_status: status for the token PUT (200);
    role_status: status for the role list (200);
    creds_statuses: [200, 500, ...] statuses of successive credential
      fetches, the last one repeating;
    creds_body: "ok", "malformed", "code-fail", "no-expiration";
    delay_ms: how long each credentials answer waits (0);
    reset: true zeroes the counters.
  GET /_calls: {"token", "role", "creds", "container", "total", "ttl"}
    (ttl: the last TTL header seen).
"""
import argparse
import json
import secrets
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDS_PATH = "/latest/meta-data/iam/security-credentials/"


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.secret = args.secret
        self.container_token = args.container_token
        self.role = args.role
        self.tokens = set()
        self.expiration = None
        self.expires_in = 6 * 3600
        self.token_status = 200
        self.role_status = 200
        self.creds_statuses = [200]
        self.creds_body = "ok"
        self.delay_ms = 0
        self.reset()

    def reset(self):
        self.calls = {"token": 0, "role": 0, "creds": 0, "container": 0,
                      "total": 0, "ttl": None}

    def expiration_text(self):
        if self.expiration is not None:
            return self.expiration
        t = datetime.now(timezone.utc) + timedelta(seconds=self.expires_in)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def creds_doc(self, prefix, n):
        doc = {
            "Code": "Success",
            "LastUpdated": datetime.now(timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
            "Type": "AWS-HMAC",
            "AccessKeyId": "%s%04d" % (prefix, n),
            "SecretAccessKey": self.secret,
            "Token": "fake-session-token-%d" % n,
            "Expiration": self.expiration_text(),
        }
        if self.creds_body == "code-fail":
            doc["Code"] = "AssumeRoleUnauthorizedAccess"
        elif self.creds_body == "no-expiration":
            del doc["Expiration"]
        elif self.creds_body == "malformed":
            return b'{"AccessKeyId": "ASIA'  # cut short
        return json.dumps(doc).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def has_token(self):
        return self.headers.get("X-aws-ec2-metadata-token") in S.tokens

    def do_PUT(self):
        self.body()
        with S.lock:
            if self.path != "/latest/api/token":
                return self.reply(404, "not found")
            S.calls["total"] += 1
            S.calls["token"] += 1
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            S.calls["ttl"] = ttl
            if S.token_status != 200:
                return self.reply(S.token_status, "token refused")
            try:
                ok = 1 <= int(ttl) <= 21600
            except (TypeError, ValueError):
                ok = False
            if not ok:
                return self.reply(400, "missing or bad TTL header")
            token = secrets.token_urlsafe(32)
            S.tokens.add(token)
            return self.reply(200, token)

    def do_GET(self):
        if S.delay_ms and self.path.startswith(CREDS_PATH + S.role):
            time.sleep(S.delay_ms / 1000.0)  # a slow service, not a wait
        with S.lock:
            if self.path == "/_calls":
                return self.reply(200, json.dumps(S.calls),
                                  "application/json")
            if self.path == "/container/creds":
                S.calls["total"] += 1
                S.calls["container"] += 1
                if self.headers.get("Authorization") != S.container_token:
                    return self.reply(401, '{"message": "unauthorized"}')
                return self.reply(200, S.creds_doc("ASIACONT",
                                                   S.calls["container"]),
                                  "application/json")
            if not self.path.startswith(CREDS_PATH):
                return self.reply(404, "not found")
            S.calls["total"] += 1
            role = self.path[len(CREDS_PATH):]
            if role == "":
                S.calls["role"] += 1
            else:
                S.calls["creds"] += 1
            if not self.has_token():
                return self.reply(401, "")
            if role == "":
                if S.role_status != 200:
                    return self.reply(S.role_status, "")
                return self.reply(200, S.role + "\n")
            if role != S.role:
                return self.reply(404, "no such role")
            statuses = S.creds_statuses
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            if status != 200:
                return self.reply(status, "failure")
            return self.reply(200, S.creds_doc("ASIAFAKE", S.calls["creds"]),
                              "application/json")

    def do_POST(self):
        body = self.body()
        if self.path != "/_control":
            return self.reply(404, "not found")
        ctl = json.loads(body or b"{}")
        with S.lock:
            if ctl.get("reset"):
                S.reset()
            for key in ("expiration", "expires_in", "token_status",
                        "role_status", "creds_statuses", "creds_body",
                        "delay_ms"):
                if key in ctl:
                    setattr(S, key, ctl[key])
            if "expires_in" in ctl:
                S.expiration = None
        return self.reply(200, "ok")


def main():
    global S
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret", required=True)
    ap.add_argument("--container-token", default=None)
    ap.add_argument("--role", default="dray-test-role")
    S = State(ap.parse_args())
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


S = None

if __name__ == "__main__":
    sys.exit(main())
