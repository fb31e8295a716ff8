#!/usr/bin/env python3
"""dray-plugin-test interrupted (docs/HARNESS.md, "Interrupting"), against
the test plugin echo made slow (sleep_ms: every load takes 10 minutes).

    test_harness_interrupt.py HARNESS ECHO_SO

SIGINT while the worker is inside load_batch (echo's journal says so):
the harness exits 130 with one line on stderr, the running dray run and
its worker are gone, the scenario's namespace (a folder of echo's
out_dir) is dropped and its temp folder removed, and no result or summary
is printed. SIGTERM as soon as the namespace exists (wherever the
scenario is then): exit 143, the same cleanup. With --keep, SIGINT keeps
both and says so.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
FAILED = []
PASSED = [0]
# Seconds to wait for a state; sanitized builds start slower.
WAIT = 120 if os.environ.get("DRAY_SANITIZED") else 60

SCENARIO = """# One slow load.
[input]
{"type":"SCHEMA","stream":"people","key_properties":["id"],"schema":{"type":"object","properties":{"id":{"type":"integer"}}}}
{"type":"RECORD","stream":"people","record":{"id":1}}
"""


def check(cond, what, detail=""):
    if cond:
        PASSED[0] += 1
    else:
        FAILED.append(what)
        print("FAIL: %s%s" % (what, ("\n" + detail) if detail else ""))


def wait_for(pred, seconds=WAIT):
    """Polls pred until it is true; returns its last value."""
    end = time.monotonic() + seconds
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


def gone(pid):
    """The process ended (a zombie has ended too)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class Case:
    """One harness run in a fresh folder: out_dir, TMPDIR, a journal."""

    def __init__(self, harness, so, root, name, extra_args=()):
        self.dir = os.path.join(root, name)
        self.out = os.path.join(self.dir, "out")
        self.tmp = os.path.join(self.dir, "tmp")
        self.journal = os.path.join(self.dir, "journal")
        scn = os.path.join(self.dir, "scn")
        for d in (self.out, self.tmp, scn):
            os.makedirs(d)
        with open(os.path.join(scn, "001-slow.scn"), "w") as f:
            f.write(SCENARIO)
        cfg = os.path.join(self.dir, "echo.yml")
        with open(cfg, "w") as f:
            f.write("destinations:\n  - name: e\n    plugin: echo\n"
                    "    options: {out_dir: \"%s\", sleep_ms: 600000, "
                    "journal: \"%s\"}\n" % (self.out, self.journal))
        env = dict(os.environ, TMPDIR=self.tmp, DRAY_SCENARIOS=scn)
        self.p = subprocess.Popen([harness, so, "-c", cfg] + list(extra_args),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)

    def namespaces(self):
        return glob.glob(os.path.join(self.out, "dpt_001_*"))

    def folders(self):
        return [x for x in os.listdir(self.tmp) if x.startswith("dpt-")]

    def worker_pid(self):
        """The pid of the worker inside load_batch, from echo's journal."""
        try:
            with open(self.journal) as f:
                m = re.match(r"^start \S+ 1 (\d+)$", f.readline().strip())
        except OSError:
            return None
        return int(m.group(1)) if m else None

    def finish(self):
        try:
            out, err = self.p.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
            check(False, "the harness ends after the signal")
        return self.p.returncode, out, err


def test_sigint_in_load(harness, so, root):
    c = Case(harness, so, root, "int")
    pid = wait_for(c.worker_pid)
    check(pid is not None and len(c.namespaces()) == 1,
          "the load started in the scenario's namespace")
    c.p.send_signal(signal.SIGINT)
    rc, out, err = c.finish()
    show = "stdout:\n%s\nstderr:\n%s" % (out, err)
    check(rc == 130, "SIGINT: exit 130 (got %d)" % rc, show)
    check(err == "dray-plugin-test: interrupted by SIGINT in 001-slow; its "
                 "commands were stopped, its namespace dropped and its "
                 "folder removed\n", "SIGINT: one line on stderr", show)
    check("001-slow" not in out and "passed" not in out,
          "no result and no summary for an interrupted run", show)
    check(pid is not None and wait_for(lambda: gone(pid), 10),
          "the worker that was loading is gone")
    check(c.namespaces() == [], "SIGINT: the namespace is dropped",
          str(c.namespaces()))
    check(os.listdir(c.tmp) == [], "SIGINT: the temp folders are removed",
          str(os.listdir(c.tmp)))


def test_sigterm(harness, so, root):
    c = Case(harness, so, root, "term")
    check(wait_for(c.namespaces), "the namespace appears")
    c.p.send_signal(signal.SIGTERM)
    rc, out, err = c.finish()
    show = "stdout:\n%s\nstderr:\n%s" % (out, err)
    check(rc == 143, "SIGTERM: exit 143 (got %d)" % rc, show)
    check(re.match(r"^dray-plugin-test: interrupted by SIGTERM in 001-slow; "
                   r"[^\n]*\n$", err) is not None,
          "SIGTERM: one line on stderr", show)
    pid = c.worker_pid()
    check(pid is None or wait_for(lambda: gone(pid), 10),
          "SIGTERM: no worker left")
    check(c.namespaces() == [], "SIGTERM: the namespace is dropped",
          str(c.namespaces()))
    check(os.listdir(c.tmp) == [], "SIGTERM: the temp folders are removed",
          str(os.listdir(c.tmp)))


def test_keep(harness, so, root):
    c = Case(harness, so, root, "keep", ["--keep"])
    pid = wait_for(c.worker_pid)
    c.p.send_signal(signal.SIGINT)
    rc, out, err = c.finish()
    show = "stdout:\n%s\nstderr:\n%s" % (out, err)
    check(rc == 130, "--keep, SIGINT: exit 130 (got %d)" % rc, show)
    check(err.endswith("its folder and namespace are kept (--keep)\n"),
          "--keep: the line says what is kept", show)
    check(pid is not None and wait_for(lambda: gone(pid), 10),
          "--keep: the worker is stopped all the same")
    check(len(c.namespaces()) == 1 and len(c.folders()) == 1,
          "--keep: the namespace and the folder stay",
          str(c.namespaces() + c.folders()))


def main():
    harness, so = sys.argv[1:3]
    root = tempfile.mkdtemp(prefix="dray-harness-int-")
    try:
        test_sigint_in_load(harness, so, root)
        test_sigterm(harness, so, root)
        test_keep(harness, so, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("%d passed, %d failed" % (PASSED[0], len(FAILED)))
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
