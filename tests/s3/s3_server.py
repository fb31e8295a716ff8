"""A throwaway moto_server (a fake S3) for the tests that talk to S3.

    with MotoServer() as m:             # no signature checks
        m.endpoint                      # "http://127.0.0.1:PORT"

    with MotoServer(auth=True) as m:    # signatures checked
        key_id, secret = m.access_key   # an IAM user allowed s3:*

moto_server must be on PATH (it comes with moto, in the test image's pip
set). It listens on 127.0.0.1 at a free port, is waited for until it
answers, and is stopped by its PID (terminate, then kill) when the block
ends, failures included. Its output goes to a log file whose tail
log_tail() returns for a failure message.

Auth mode: moto checks signatures only with INITIAL_NO_AUTH_ACTION_COUNT
set, and only after that many unauthenticated requests; the three spent
here create the IAM user, its s3:* policy and its access key (the probe in
destinations.md, Part 2 P1). moto's auth-mode canonicalisation mishandles
keys with non-ASCII, '=' or '+': use plain keys there.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

# Sanitizer builds are slower: waits get longer, assertions stay the same.
SLOW = 4 if os.environ.get("DRAY_SANITIZED") else 1


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have_moto():
    """Whether moto_server and boto3 are there (else tests skip, 77)."""
    if shutil.which("moto_server") is None:
        return False
    try:
        import boto3  # noqa: F401
    except ImportError:
        return False
    return True


class MotoServer:
    """moto_server on 127.0.0.1; start() / stop(), or a with block."""

    AUTH_ACTIONS = 3  # create_user, put_user_policy, create_access_key

    def __init__(self, auth=False, region="us-east-1"):
        self.auth = auth
        self.region = region
        self.port = None
        self.proc = None
        self.access_key = None  # (key id, secret) in auth mode
        self._log = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=30):
        env = dict(os.environ)
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        if self.auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.AUTH_ACTIONS)
        self._log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log",
                                                delete=False)
        # A port taken between free_port() and the bind: try another.
        for _ in range(3):
            self.port = free_port()
            self.proc = subprocess.Popen(
                ["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=self._log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env)
            if self._wait_ready(timeout * SLOW):
                break
            self._kill()
        else:
            raise RuntimeError("moto_server did not start:\n" +
                               self.log_tail())
        if self.auth:
            self.access_key = self._make_user()
        return self

    def _wait_ready(self, timeout):
        """Polls the dashboard API (it spends none of the auth-mode free
        actions) until it answers or the process exits."""
        deadline = time.monotonic() + timeout
        url = self.endpoint + "/moto-api/"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    r.read()
                return True
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        return False

    def _make_user(self):
        import boto3
        iam = boto3.client("iam", endpoint_url=self.endpoint,
                           region_name=self.region,
                           aws_access_key_id="bootstrap",
                           aws_secret_access_key="bootstrap")
        iam.create_user(UserName="dray-test")
        iam.put_user_policy(
            UserName="dray-test", PolicyName="s3-all",
            PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*",
                               "Resource": "*"}]}))
        k = iam.create_access_key(UserName="dray-test")["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def log_tail(self, n=30):
        if self._log is None:
            return ""
        try:
            with open(self._log.name, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        self._kill()
        if self._log is not None:
            self._log.close()
            try:
                os.unlink(self._log.name)
            except OSError:
                pass
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
