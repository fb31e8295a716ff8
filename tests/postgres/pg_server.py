"""The throwaway PostgreSQL server of the postgres tests (run_cases.py,
test_faults_kill.py, test_faults_server.py).

A Server lives in a temporary folder: tests/fixtures/postgres.sh starts it
there (on 127.0.0.1, a free port) and writes DIR/env, the libpq settings
that reach it; psql runs against it with those. serve() runs a test
script's body with the server started, returns 77 (ctest's skip) when the
fixture says there is no server or there is no psql, and stops the server
at exit, failures and signals included.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "postgres.sh")
# Sanitizer builds are slower: waits get longer, assertions stay the same.
SLOW = 4 if os.environ.get("DRAY_SANITIZED") else 1
PG_BIN = os.environ.get("DRAY_PG_BIN", "/usr/lib/postgresql/15/bin")
PSQL = os.path.join(PG_BIN, "psql")
if not os.access(PSQL, os.X_OK):
    PSQL = shutil.which("psql") or "psql"
# initdb and postgres refuse to run as root: the fixture runs them as
# postgres, and so does pg_ctl here.
AS_OWNER = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []


def tail(text, n=15):
    """The last n lines of text, indented and marked, for a message."""
    lines = text.rstrip("\n").splitlines()
    cut = lines[-n:]
    pre = ["    ... (%d lines before)" % (len(lines) - n)] if len(lines) > n \
        else []
    return "\n".join(pre + ["    | " + x for x in cut])


class Server:
    """The server in a temporary folder named prefix...; nothing exists
    before start()."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.base = self.dir = None
        self.env = None  # DIR/env: PGHOST, PGPORT, PGUSER, PGDATABASE
        self.port = None

    def start(self):
        """0 when it runs, 77 when the fixture skips, else 1 (the
        fixture's output printed)."""
        self.base = tempfile.mkdtemp(prefix=self.prefix)
        os.chmod(self.base, 0o755)  # the fixture runs the server as postgres
        self.dir = os.path.join(self.base, "pg")
        p = subprocess.run(["bash", FIXTURE, "start", self.dir],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode == 77:
            print(p.stderr.strip() or "skipped: no PostgreSQL server")
            return 77
        if p.returncode != 0:
            print("cannot start PostgreSQL (exit %d):\n%s"
                  % (p.returncode, tail(p.stdout + p.stderr, 30)))
            return 1
        self.env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    self.env[k] = v
        self.port = int(self.env["PGPORT"])
        return 0

    def close(self):
        """Stops the server and removes its folder."""
        if self.base is None:
            return
        if os.path.isdir(self.dir):
            subprocess.run(["bash", FIXTURE, "stop", self.dir],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def dsn(self, user=None, db=None, password=None):
        """A DSN written out in full: the server's user and database unless
        others are named."""
        e = self.env
        d = "host=%s port=%s user=%s dbname=%s" % (
            e["PGHOST"], e["PGPORT"], user or e["PGUSER"],
            db or e["PGDATABASE"])
        return d + (" password=%s" % password if password else "")

    def psql_env(self, **extra):
        """The environment for psql: ours, the server's libpq settings,
        then extra."""
        e = dict(os.environ)
        e.update(self.env)
        e.update(extra)
        return e

    @staticmethod
    def run_psql(args, text, env):
        """(exit code, stdout, stderr) of psql ARGS with text on its stdin.
        With no answer in 120 s (scaled) psql is killed and
        subprocess.TimeoutExpired raised."""
        p = subprocess.Popen([PSQL] + args, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env)
        try:
            out, err = p.communicate(text.encode(), timeout=120 * SLOW)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        return p.returncode, out.decode("utf-8", "replace"), \
            err.decode("utf-8", "replace")

    # ---- the server stopped and started again (its folder stays) ----

    def pg_ctl(self, *args):
        return subprocess.run(AS_OWNER + [os.path.join(PG_BIN, "pg_ctl"), "-D",
                                          os.path.join(self.dir, "data")] +
                              list(args), capture_output=True, text=True)

    def stop_server(self):
        p = self.pg_ctl("-m", "fast", "-w", "-t", "60", "stop")
        return p.returncode == 0

    def start_server(self):
        """Starts it again as the fixture did: same port and socket
        folder."""
        sockdir = self.dir
        sd = os.path.join(self.dir, "socketdir")
        if os.path.exists(sd):
            sockdir = open(sd).read().strip()
        opts = ("-c listen_addresses=127.0.0.1 -c port=%d "
                "-c unix_socket_directories=%s -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off"
                % (self.port, sockdir))
        p = self.pg_ctl("-w", "-t", "60", "-l",
                        os.path.join(self.dir, "server.log"), "-o", opts,
                        "start")
        return p.returncode == 0


def serve(server, body):
    """body() with the server started: its result, or 77 (skipped) without
    psql or a server, 1 when the server does not start. The server is
    stopped at exit, failures and signals (SIGTERM, SIGINT) included."""
    if shutil.which(PSQL) is None:
        print("skipped: no psql")
        return 77

    def on_signal(sig, frame):
        server.close()
        sys.exit(128 + sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        rc = server.start()
        return rc if rc else body()
    finally:
        server.close()
