#!/usr/bin/env python3
"""The AWS credential chain's network sources (IMDSv2, container
credentials), caching, refresh and chain order, through tools_creds
against imds_fake.py.

    aws_creds.py TOOLS_CREDS

Every run gets an environment with no AWS_* or proxy variable and an empty
HOME, plus what the case sets. Expected key ids, secrets and expirations
come from this file (the fake is told them), never from the code under
test. The secret itself must never appear in the tool's output.
"""
import calendar
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = sys.argv[1] if len(sys.argv) > 1 else None
SECRET = "fAkE/imds+Secret0123456789abcdefghijkl"
CONTAINER_TOKEN = "Bearer container-auth-0123456789"
FAR = "2099-01-01T00:00:00Z"
FAR_MS = calendar.timegm((2099, 1, 1, 0, 0, 0)) * 1000
SECRET_TAG = "%d:%s" % (len(SECRET),
                        hashlib.sha256(SECRET.encode()).hexdigest()[:8])

passed = failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s%s" % (what, "\n  " + detail if detail else ""))


class Fake:
    """imds_fake.py as a subprocess, killed by PID."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "imds_fake.py"),
             "--secret", SECRET, "--container-token", CONTAINER_TOKEN],
            stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.url = "http://127.0.0.1:%d" % self.port

    def calls(self):
        with urllib.request.urlopen(self.url + "/_calls", timeout=10) as r:
            return json.loads(r.read())

    def control(self, **kw):
        req = urllib.request.Request(
            self.url + "/_control", data=json.dumps(kw).encode(),
            method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def fresh(self, **kw):
        """Counters zeroed and the defaults back, then kw."""
        state = dict(reset=True, expiration=FAR, token_status=200,
                     role_status=200, creds_statuses=[200], creds_body="ok",
                     delay_ms=0)
        state.update(kw)
        if "expires_in" in kw:
            del state["expiration"]
        self.control(**state)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def closed_port():
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Run:
    def __init__(self, args, env):
        self.home = tempfile.mkdtemp(prefix="dray-awscreds-")
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("AWS_") and "proxy" not in k.lower()}
        base["HOME"] = self.home
        base.update(env)
        t0 = time.monotonic()
        p = subprocess.run([TOOL] + args, env=base, capture_output=True,
                           text=True, timeout=120)
        self.elapsed = time.monotonic() - t0
        shutil.rmtree(self.home, ignore_errors=True)
        self.rc = p.returncode
        self.out = p.stdout
        self.all = p.stdout + p.stderr
        self.gets = [parse(line) for line in p.stdout.splitlines()
                     if line.startswith("get ")]
        check(SECRET not in self.all, "the secret is not in the output",
              self.all)


GET_LINE = re.compile(
    r"^get (\d+) rc=(?P<rc>-?\d+) source=(?P<source>.*?)"
    r"(?: key=(?P<key>\S+) token=(?P<token>\S+) secret=(?P<secret>\S+)"
    r" expires=(?P<expires>-?\d+)(?: note=(?P<note>.*))?| err=(?P<err>.*))$")


def parse(line):
    """A tools_creds "get" line to a dict of its fields."""
    m = GET_LINE.match(line)
    check(m is not None, "a well-formed get line", line)
    if m is None:
        return {}
    return {k: v for k, v in m.groupdict().items() if v is not None}


def imds_env(fake):
    return {"AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.url}


def case_imds_happy(fake):
    fake.fresh()
    r = Run([], imds_env(fake))
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "0", "imds: rc 0", r.out)
    check(g.get("source") == "instance metadata", "imds: source", r.out)
    check(g.get("key") == "ASIAFAKE0001", "imds: key id", r.out)
    check(g.get("token") == "yes", "imds: session token", r.out)
    check(g.get("secret") == SECRET_TAG, "imds: secret", r.out)
    check(g.get("expires") == str(FAR_MS), "imds: expiration", r.out)
    c = fake.calls()
    check((c["token"], c["role"], c["creds"]) == (1, 1, 1),
          "imds: one token, role and credentials request", str(c))
    check(c["ttl"] == "21600", "imds: token TTL header 21600", str(c))
    # The endpoint option beats the variable.
    fake.fresh()
    r = Run(["--imds", fake.url + "/"],
            {"AWS_EC2_METADATA_SERVICE_ENDPOINT":
             "http://127.0.0.1:%d" % closed_port()})
    check(r.gets and r.gets[0].get("key") == "ASIAFAKE0001",
          "imds: endpoint option beats AWS_EC2_METADATA_SERVICE_ENDPOINT",
          r.out)


def case_refresh(fake):
    # Less than five minutes left: every get fetches again.
    fake.fresh(expires_in=120)
    r = Run(["--count", "3"], imds_env(fake))
    keys = [g.get("key") for g in r.gets]
    check(keys == ["ASIAFAKE0001", "ASIAFAKE0002", "ASIAFAKE0003"],
          "refresh: expiring credentials fetched again", r.out)
    check(fake.calls()["creds"] == 3, "refresh: three fetches",
          str(fake.calls()))
    # Hours left: fetched once.
    fake.fresh(expires_in=6 * 3600)
    r = Run(["--count", "3"], imds_env(fake))
    keys = [g.get("key") for g in r.gets]
    check(keys == ["ASIAFAKE0001"] * 3, "refresh: cached while fresh", r.out)
    check(fake.calls()["creds"] == 1, "refresh: one fetch",
          str(fake.calls()))


def case_refresh_failure_keeps_old(fake):
    # The first fetch works (2 minutes left), every later one fails: the
    # old credentials are still valid, so they are returned, with a note.
    fake.fresh(expires_in=120, creds_statuses=[200, 500])
    r = Run(["--count", "2"], imds_env(fake))
    two = fake.calls()["creds"]
    check([g.get("rc") for g in r.gets] == ["0", "0"],
          "keep old: both gets succeed", r.out)
    check([g.get("key") for g in r.gets] == ["ASIAFAKE0001"] * 2,
          "keep old: the first credentials kept", r.out)
    check(len(r.gets) == 2 and "did not answer" in r.gets[1].get("note", ""),
          "keep old: the failure is told in err", r.out)
    check(two > 1, "keep old: the second get tried to refresh", str(two))
    # A third get right after does not try again (back-off after failure).
    fake.fresh(expires_in=120, creds_statuses=[200, 500])
    r = Run(["--count", "3"], imds_env(fake))
    check([g.get("key") for g in r.gets] == ["ASIAFAKE0001"] * 3,
          "keep old: third get still has the old credentials", r.out)
    check(fake.calls()["creds"] == two,
          "keep old: no new attempt right after a failure",
          "%s vs %d" % (fake.calls(), two))


def case_disabled(fake):
    fake.fresh()
    env = imds_env(fake)
    env["AWS_EC2_METADATA_DISABLED"] = "True"
    r = Run([], env)
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "-1", "disabled: rc -1", r.out)
    check("no AWS credentials found" in g.get("err", ""),
          "disabled: no credentials", r.out)
    check("AWS_EC2_METADATA_DISABLED" in g.get("err", ""),
          "disabled: says why IMDS was skipped", r.out)
    check(fake.calls()["total"] == 0, "disabled: no request made",
          str(fake.calls()))


def case_not_on_ec2(fake):
    r = Run([], {"AWS_EC2_METADATA_SERVICE_ENDPOINT":
                 "http://127.0.0.1:%d" % closed_port()})
    g = r.gets[0] if r.gets else {}
    err = g.get("err", "")
    check(g.get("rc") == "-1", "refused: rc -1 (no credentials)", r.out)
    check("no AWS credentials found" in err, "refused: no credentials", err)
    check("AWS_ACCESS_KEY_ID" in err and "instance role" in err,
          "refused: the fix is in the message", err)
    check(g.get("source") == "none", "refused: source none", r.out)
    # Generous bound: refused connections must not be waited on for long.
    check(r.elapsed < 10, "refused: fails quickly", "%.1f s" % r.elapsed)
    # IMDS turned off on the instance (the token PUT refused): the same.
    fake.fresh(token_status=403)
    r = Run([], imds_env(fake))
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "-1" and "no AWS credentials found" in
          g.get("err", ""), "token 403: no credentials", r.out)


def case_transient(fake):
    fake.fresh(creds_statuses=[500])
    r = Run([], imds_env(fake))
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "1", "creds 500: transient (1)", r.out)
    check("did not answer" in g.get("err", ""), "creds 500: says so", r.out)
    check(fake.calls()["token"] >= 1, "creds 500: a token was obtained",
          str(fake.calls()))
    # The next get in the same process tries again and succeeds.
    fake.fresh(creds_statuses=[500, 500, 200])
    r = Run(["--count", "2"], imds_env(fake))
    check([g.get("rc") for g in r.gets] == ["1", "0"],
          "creds 500 then 200: transient, then credentials", r.out)


def case_refusals(fake):
    for ctl, what in ((dict(creds_statuses=[403]), "creds 403"),
                      (dict(creds_body="code-fail"), "Code not Success"),
                      (dict(creds_body="malformed"), "malformed JSON"),
                      (dict(creds_body="no-expiration"), "token, no expiry")):
        fake.fresh(**ctl)
        r = Run([], imds_env(fake))
        g = r.gets[0] if r.gets else {}
        check(g.get("rc") == "-1", "%s: rc -1" % what, r.out)
        check("no AWS credentials found" not in g.get("err", "x"),
              "%s: a specific message" % what, r.out)
    fake.fresh(role_status=404)
    r = Run([], imds_env(fake))
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "-1" and "no IAM role" in g.get("err", ""),
          "role 404: no credentials, no role", r.out)


def case_container(fake):
    url = fake.url + "/container/creds"
    fake.fresh()
    env = imds_env(fake)
    env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": url,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_TOKEN})
    r = Run([], env)
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "0" and g.get("source") == "container",
          "container: credentials", r.out)
    check(g.get("key") == "ASIACONT0001" and g.get("secret") == SECRET_TAG,
          "container: key and secret", r.out)
    c = fake.calls()
    check(c["container"] == 1 and c["token"] == 0,
          "container: asked once, IMDS not asked", str(c))

    fake.fresh()
    env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer wrong"
    r = Run([], env)
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "-1" and "401" in g.get("err", ""),
          "container: a wrong token is refused", r.out)
    check("Bearer wrong" not in r.all, "container: token not printed", r.out)

    # The token file wins over the token variable.
    fake.fresh()
    fd, path = tempfile.mkstemp(prefix="dray-ctok-")
    os.write(fd, (CONTAINER_TOKEN + "\n").encode())
    os.close(fd)
    try:
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = path
        r = Run([], env)
    finally:
        os.unlink(path)
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "0" and g.get("key") == "ASIACONT0001",
          "container: token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
          r.out)

    # Plain http to anything but loopback or the agents is refused.
    r = Run([], {"AWS_CONTAINER_CREDENTIALS_FULL_URI":
                 "http://192.0.2.1/creds"})
    g = r.gets[0] if r.gets else {}
    check(g.get("rc") == "-1" and "neither https nor" in g.get("err", ""),
          "container: non-loopback http refused", r.out)


def case_chain_order(fake):
    fake.fresh()
    env = imds_env(fake)
    env.update({"AWS_ACCESS_KEY_ID": "AKIAENVKEY",
                "AWS_SECRET_ACCESS_KEY": "env-secret-not-printed"})
    r = Run([], env)
    g = r.gets[0] if r.gets else {}
    check(g.get("source") == "environment" and g.get("key") == "AKIAENVKEY",
          "order: environment beats IMDS", r.out)
    check("env-secret-not-printed" not in r.all, "order: secret not printed")
    check(fake.calls()["total"] == 0, "order: IMDS not asked",
          str(fake.calls()))
    # A profile in HOME beats IMDS too.
    fake.fresh()
    home = tempfile.mkdtemp(prefix="dray-awscreds-home-")
    try:
        os.mkdir(os.path.join(home, ".aws"))
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = AKIAPROFILE\n"
                    "aws_secret_access_key = profile-secret\n")
        env = imds_env(fake)
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(
            home, ".aws", "credentials")
        r = Run([], env)
    finally:
        shutil.rmtree(home)
    g = r.gets[0] if r.gets else {}
    check(g.get("key") == "AKIAPROFILE" and
          g.get("source", "").startswith("profile default in "),
          "order: profile beats IMDS", r.out)
    check(fake.calls()["total"] == 0, "order: IMDS not asked for a profile",
          str(fake.calls()))


def case_threads(fake):
    fake.fresh()
    r = Run(["--threads", "8", "--count", "25"], imds_env(fake))
    check("threads 8 gets 200 ok 200 keys-equal yes" in r.out,
          "threads: all gets succeed with the same key", r.out)
    check(fake.calls()["creds"] == 1, "threads: fetched once",
          str(fake.calls()))
    # Expiring credentials, from a slow service: while one thread
    # fetches, the others wait for it (at first) or use the old ones.
    fake.fresh(expires_in=120, delay_ms=200)
    r = Run(["--threads", "8", "--count", "10"], imds_env(fake))
    check("threads 8 gets 80 ok 80 " in r.out,
          "threads: all gets succeed while refreshing", r.out)
    check(1 < fake.calls()["creds"] <= 80, "threads: refreshed",
          str(fake.calls()))
    # A service that always fails: every get fails, none hangs.
    fake.fresh(creds_statuses=[503])
    r = Run(["--threads", "4", "--count", "3"], imds_env(fake))
    check("threads 4 gets 12 ok 0 " in r.out, "threads: all gets fail",
          r.out)


def main():
    if TOOL is None:
        print("usage: aws_creds.py TOOLS_CREDS")
        return 2
    fake = Fake()
    try:
        for case in (case_imds_happy, case_refresh,
                     case_refresh_failure_keeps_old, case_disabled,
                     case_not_on_ec2, case_transient, case_refusals,
                     case_container, case_chain_order, case_threads):
            before = failed
            case(fake)
            print("%s %s" % ("ok" if failed == before else "FAIL",
                             case.__name__))
    finally:
        fake.stop()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
