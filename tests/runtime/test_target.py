#!/usr/bin/env python3
"""`dray target` as a Singer target, driven as a tap drives it: a tap
process writes Singer messages into a pipe (`tap | dray target`), pausing
on conditions, and the test reads the target's stdout line by line.

What a user sees is what is checked: the STATE lines on stdout, the exit
code, and the files the echo plugin wrote per committed batch (out_dir).
On every STATE line, at once, both destinations' out_dirs are scanned:
the plugin writes its file before the load is acknowledged, so a STATE
printed before its records were committed everywhere is caught.

STATE values are {"n": k}: every record with an id below k was sent
before that STATE.

usage: test_target.py DRAY PLUGIN_DIR
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from checks import check, finish

DRAY, PLUGINS = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SANITIZED = bool(os.environ.get("DRAY_SANITIZED"))
LIMIT = 90 if SANITIZED else 30  # seconds a case may take before it hangs


# The tap: follows a plan of steps, writing to stdout (the pipe into
# dray target) and flushing after each step.
TAP = r'''
import json, os, sys, time
plan = json.load(open(sys.argv[1]))
limit = float(sys.argv[2])

def ids(d):
    got = set()
    for name in os.listdir(d):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(d, name)) as f:
            for line in f.read().splitlines()[1:]:
                got.add(json.loads(line)["data"]["id"])
    return got

def wait(cond):
    until = time.monotonic() + limit
    while not cond():
        if time.monotonic() > until:
            sys.stderr.write("tap: gave up waiting\n")
            sys.exit(3)
        time.sleep(0.01)

for step in plan:
    kind, arg = step[0], step[1]
    if kind == "send":
        for m in arg:
            sys.stdout.write((m if isinstance(m, str) else json.dumps(m))
                             + "\n")
        sys.stdout.flush()
    elif kind == "wait_file":
        wait(lambda: os.path.exists(arg))
    elif kind == "wait_loaded":  # [dirs, ids]: these ids in every dir
        wait(lambda: all(set(arg[1]) <= ids(d) for d in arg[0]))
    elif kind == "pause":  # gives a wrong target time to go wrong
        time.sleep(arg)
'''


def schema(stream="s"):
    return {"type": "SCHEMA", "stream": stream, "key_properties": ["id"],
            "schema": {"type": "object",
                       "properties": {"id": {"type": "integer"},
                                      "v": {"type": "string"}}}}


def rec(i, stream="s", v="x"):
    return {"type": "RECORD", "stream": stream, "record": {"id": i, "v": v}}


def state(n):
    return {"type": "STATE", "value": {"n": n}}


def out_ids(d):
    """The ids of the records the echo plugin committed in out_dir d."""
    got = set()
    for name in os.listdir(d):
        if not name.endswith(".jsonl"):
            continue  # a .tmp is a load in progress
        with open(os.path.join(d, name)) as f:
            for line in f.read().splitlines()[1:]:
                got.add(json.loads(line)["data"]["id"])
    return got


def out_headers(d):
    heads = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".jsonl"):
            with open(os.path.join(d, name)) as f:
                heads.append(json.loads(f.readline()))
    return heads


def kill_tree(pid):
    """SIGKILL pid and every process below it (the loader child has a
    process group of its own and outlives a killed target)."""
    todo, found = [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    for p in found:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


class Case:
    def __init__(self, name, dests, extra="", run_extra="", grace="10s"):
        """dests: {name: extra echo options}, in config order; extra: more
        top-level config; run_extra: more keys of 'run'."""
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="dray-target-")
        self.cfg = os.path.join(self.tmp, "dray.yml")
        self.dirs = {}
        text = ("spool: {path: ./spool}\n"
                "plugin_path: [%s]\n"
                "run: {poll_interval: 100ms, retry: {initial: 50ms, "
                "max: 200ms}, grace: %s%s}\n"
                "target: {state_interval: 200ms}\n%s"
                "destinations:\n" % (os.path.join(PLUGINS, "good"), grace,
                                      run_extra, extra))
        for d, opts in dests.items():
            self.dirs[d] = os.path.join(self.tmp, "out_" + d)
            os.makedirs(self.dirs[d])
            text += ("  - name: %s\n    plugin: echo\n"
                     "    options: {out_dir: ./out_%s%s}\n" % (d, d, opts))
        with open(self.cfg, "w") as f:
            f.write(text)
        self.states = []  # printed, in order
        self.unsafe = []  # (state, destination, missing ids) at print time

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, plan, on_state=None, tap_ends=True, crash_ok=False,
            on_tick=None):
        """Runs tap | dray target; returns the target's exit code. Unless
        tap_ends, the tap is still waiting when the target exits."""
        planfile, tapfile = self.path("plan.json"), self.path("tap.py")
        with open(planfile, "w") as f:
            json.dump(plan, f)
        with open(tapfile, "w") as f:
            f.write(TAP)
        self.errfile = open(self.path("stderr"), "w+")
        tap = subprocess.Popen([sys.executable, tapfile, planfile,
                                str(LIMIT / 2)], stdout=subprocess.PIPE)
        tgt = subprocess.Popen(
            [DRAY, "target", "-c", self.cfg, "--integration", "i"],
            stdin=tap.stdout, stdout=subprocess.PIPE,
            stderr=self.errfile)
        tap.stdout.close()  # the target holds the pipe's only reader
        self.tap, self.tgt = tap, tgt
        fd, buf, until = tgt.stdout.fileno(), b"", time.monotonic() + LIMIT
        self.hung = False
        while True:
            left = until - time.monotonic()
            r = select.select([fd], [], [], min(left, 0.05))[0] \
                if left > 0 else []
            if not r:
                if left <= 0:
                    self.hung = True
                    break
                if on_tick:
                    on_tick(self)
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.on_line(line.decode(), on_state)
        check(buf == b"", "%s: stdout ends in a partial line %r"
              % (self.name, buf))
        check(not self.hung, "%s: dray target did not finish within %d s"
              % (self.name, LIMIT))
        if self.hung:
            kill_tree(tgt.pid)
        rc = tgt.wait(LIMIT)
        try:
            self.tap_rc = tap.wait(5 if tap_ends else 0)
        except subprocess.TimeoutExpired:
            tap.kill()
            self.tap_rc = tap.wait()
        tgt.stdout.close()
        self.errfile.seek(0)
        self.stderr = self.errfile.read()
        self.errfile.close()
        check(not self.unsafe, "%s: STATE printed before its records were "
              "committed everywhere: %s" % (self.name, self.unsafe[:3]))
        # Under ASan a worker's deliberate crash is reported as a SEGV;
        # any other sanitizer report is a bug.
        reports = [l for l in self.stderr.splitlines()
                   if re.search(r"ERROR: \w*Sanitizer|runtime error:", l)
                   and not (crash_ok and "SEGV" in l)]
        check(not reports, "%s: sanitizer: %s" % (self.name, reports[:3]))
        return rc

    def on_line(self, line, on_state):
        # First look at what is committed, then parse: as close to the
        # moment of printing as this process can get.
        seen = {d: out_ids(p) for d, p in self.dirs.items()}
        try:
            value = json.loads(line)
            n = value["n"]
        except (ValueError, KeyError, TypeError):
            check(False, "%s: stdout line is not a STATE value: %r"
                  % (self.name, line))
            return
        for d, got in seen.items():
            missing = sorted(set(range(n)) - got)
            if missing:
                self.unsafe.append((value, d, missing[:5]))
        self.states.append(n)
        if on_state:
            on_state(self, n)

    def stderr_so_far(self):
        with open(self.path("stderr")) as f:
            return f.read()

    def touch(self, name):
        open(self.path(name), "w").close()

    def ids(self, d):
        return out_ids(self.dirs[d])

    def done(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tell(self):
        return "stdout STATEs %s, stderr:\n%s" % (self.states, self.stderr)


def real_pipeline():
    """1, 2: two destinations, small batches; every STATE printed is safe
    when printed, some are printed while the tap is still going, and the
    last is the tap's last STATE."""
    # b is slow: a STATE printed before b committed would be caught.
    c = Case("pipeline", {"a": "", "b": ", sleep_ms: 100"},
             "batch: {max_records: 3}\n")
    # Another integration's batches in the spool are not this target's.
    other = "".join(json.dumps(m) + "\n"
                    for m in [schema("o"), rec(1000, "o"), rec(1001, "o")])
    p = subprocess.run([DRAY, "put", "-q", "-c", c.cfg, "--integration",
                        "other"], input=other, text=True,
                       capture_output=True)
    check(p.returncode == 0, "put other: " + p.stderr)
    msgs = [schema()]
    for i in range(12):
        msgs.append(rec(i))
        if i % 2 == 1:
            msgs.append(state(i + 1))
    tail = []
    for i in range(12, 30):
        tail.append(rec(i))
        if i % 2 == 1:
            tail.append(state(i + 1))
    dirs = [c.dirs["a"], c.dirs["b"]]
    plan = [["send", msgs],
            # Quiet tap: the target prints {"n": 12} at a state_interval,
            # not at the end of input.
            ["wait_file", c.path("go")],
            ["send", tail[:9]],
            ["wait_loaded", [dirs, list(range(18))]],
            ["send", tail[9:]]]

    def on_state(c, n):
        if n >= 12:
            c.touch("go")

    rc = c.run(plan, on_state)
    check(rc == 0, "pipeline: exit %s; %s" % (rc, c.tell()))
    check(c.tap_rc == 0, "pipeline: the tap waited in vain: %s" % c.tell())
    check(c.states and c.states[-1] == 30,
          "pipeline: last STATE is not the tap's last: %s" % c.tell())
    check(12 in c.states, "pipeline: {n:12} not printed while the tap "
          "was quiet: %s" % c.tell())
    check(c.states == sorted(c.states) and len(set(c.states)) ==
          len(c.states), "pipeline: STATEs out of order or repeated: %s"
          % c.states)
    for d in ("a", "b"):
        check(c.ids(d) == set(range(30)), "pipeline: %s has %s"
              % (d, sorted(c.ids(d))))
        heads = out_headers(c.dirs[d])
        check(all(h["integration"] == "i" for h in heads),
              "pipeline: %s loaded another integration's batch" % d)
    c.done()


def volume():
    """Many small batches of three interleaved streams loading at once
    (run.concurrency 4), a STATE every few records: every STATE printed
    is safe, the last is the tap's last."""
    c = Case("volume", {"a": "", "b": ", sleep_ms: 10"},
             "batch: {max_records: 20}\n")
    msgs = [schema("x"), schema("y"), schema("z")]
    for i in range(1500):
        msgs.append(rec(i, "xyz"[i % 7 % 3]))
        if i % 13 == 12:
            msgs.append(state(i + 1))
    msgs.append(state(1500))
    plan = [["send", msgs[:800]], ["wait_file", c.path("go")],
            ["send", msgs[800:]]]

    def on_state(c, n):
        c.touch("go")

    rc = c.run(plan, on_state)
    check(rc == 0, "volume: exit %s; %s" % (rc, c.tell()))
    check(c.tap_rc == 0, "volume: the tap waited in vain: %s" % c.tell())
    check(c.states and c.states[-1] == 1500, "volume: %s" % c.tell())
    check(c.states == sorted(set(c.states)), "volume: STATEs out of order "
          "or repeated: %s" % c.states)
    for d in ("a", "b"):
        check(c.ids(d) == set(range(1500)), "volume: %s lacks %s"
              % (d, sorted(set(range(1500)) - c.ids(d))[:10]))
    c.done()


def case5_failure():
    """Reference §11 case 5: RECORD×N, S1, RECORD×M, S2, one destination
    fails on the M records: S1 printed, S2 never; exit 4; the other
    destination loaded everything. STATEs after the failure, also of
    another stream, stay unprinted."""
    c = Case("case5", {"a": "", "b": ", crash_when: boom"},
             "batch: {max_records: 3}\n", ", crash_limit: 1")
    n_msgs = [schema()] + [rec(i) for i in range(6)] + [state(6)]
    m_msgs = [rec(i, v="boom" if i == 10 else "x") for i in range(6, 12)]
    later = [rec(12), rec(13), rec(14), schema("c"), rec(15, "c"),
             rec(16, "c"), rec(17, "c"), state(18)]
    plan = [["send", n_msgs + m_msgs + [state(12)]],
            # Destination a loaded everything: b has crashed on batch 4.
            ["wait_loaded", [[c.dirs["a"]], list(range(12))]],
            ["send", later]]
    rc = c.run(plan, crash_ok=True)
    check(rc == 4, "case5: exit %s, expected 4; %s" % (rc, c.tell()))
    check(c.tap_rc == 0, "case5: the tap waited in vain: %s" % c.tell())
    check(6 in c.states, "case5: S1 not printed: %s" % c.tell())
    check(all(n <= 9 for n in c.states),
          "case5: a STATE after the failed records printed: %s" % c.states)
    check(c.ids("a") == set(range(18)),
          "case5: a has %s" % sorted(c.ids("a")))
    check(10 not in c.ids("b") and set(range(9)) <= c.ids("b"),
          "case5: b has %s" % sorted(c.ids("b")))
    check("quarantine" in c.stderr, "case5: no word of the quarantine: %s"
          % c.stderr)
    c.done()


def case6_streams():
    """Reference §11 case 6: records of streams A and B, then STATE: it is
    printed only once both streams' batches are committed, also when A's
    batches are cut and loaded while B's is still open."""
    c = Case("case6", {"a": "", "b": ", sleep_ms: 300"},
             "batch: {max_records: 4}\n")
    dirs = [c.dirs["a"], c.dirs["b"]]
    plan = [["send", [schema("A"), schema("B"), rec(0, "A"), rec(4, "B"),
                      rec(1, "A"), rec(5, "B"), rec(2, "A"), rec(3, "A"),
                      state(6)] + [rec(i, "A") for i in range(6, 10)]],
            # A's two batches everywhere, B's still open in the gate.
            ["wait_loaded", [dirs, [0, 1, 2, 3, 6, 7, 8, 9]]],
            ["pause", 0.6],  # three state_intervals for a wrong print
            ["send", [rec(10, "B"), rec(11, "B")]],  # B's batch is cut
            ["wait_file", c.path("go")],
            ["send", [state(12)]]]

    def on_state(c, n):
        c.touch("go")

    rc = c.run(plan, on_state)
    check(rc == 0, "case6: exit %s; %s" % (rc, c.tell()))
    check(c.tap_rc == 0, "case6: the tap waited in vain: %s" % c.tell())
    check(c.states == [6, 12], "case6: %s" % c.tell())
    c.done()


def case7_pass_through():
    """Reference §11 case 7: a STATE with nothing buffered before it, as
    the first message and right after a batch commit, is printed at the
    next flush, with no records after it (the tap waits for it)."""
    c = Case("case7", {"a": "", "b": ""}, "batch: {max_records: 3}\n")
    plan = [["send", [state(0)]],
            ["wait_file", c.path("go0")],
            ["send", [schema(), rec(0), rec(1), rec(2), state(3)]],
            ["wait_file", c.path("go3")]]

    def on_state(c, n):
        c.touch("go%d" % n)

    rc = c.run(plan, on_state)
    check(rc == 0, "case7: exit %s; %s" % (rc, c.tell()))
    check(c.tap_rc == 0, "case7: a STATE was not passed through while the "
          "tap waited: %s" % c.tell())
    check(c.states == [0, 3], "case7: %s" % c.tell())
    c.done()


def destination_down():
    """6: a destination fails retryably at first (each batch twice):
    STATEs wait for it, then come; exit 0."""
    c = Case("down", {"a": "", "b": ", retry_first: 2"},
             "batch: {max_records: 3}\n")
    msgs = [schema()]
    for i in range(15):
        msgs.append(rec(i))
        if i % 3 == 1:
            msgs.append(state(i + 1))
    msgs.append(state(15))
    rc = c.run([["send", msgs]])
    check(rc == 0, "down: exit %s; %s" % (rc, c.tell()))
    check(c.states and c.states[-1] == 15, "down: %s" % c.tell())
    heads = out_headers(c.dirs["b"])
    check(len(heads) == 5 and all(h["attempt"] == 3 for h in heads),
          "down: b did not fail twice per batch: %s"
          % [h["attempt"] for h in heads])
    check(c.ids("b") == set(range(15)), "down: b has %s"
          % sorted(c.ids("b")))
    c.done()


def bad_input():
    """7: a malformed line: exit 1, one error line naming <stdin> and the
    line; the records before it loaded; no STATE after it."""
    c = Case("bad", {"a": "", "b": ""}, "batch: {max_records: 3}\n")
    msgs = ([schema()] + [rec(i) for i in range(5)] + [state(5), rec(5),
            rec(6), '{"type": "RECORD", "stream": "s", "record": {"id": 7',
            state(100), rec(8)])
    rc = c.run([["send", msgs]])
    check(rc == 1, "bad: exit %s; %s" % (rc, c.tell()))
    # As dray put says it: FILE:LINE:COLUMN: for a JSON syntax error.
    errs = [l for l in c.stderr.splitlines() if "<stdin>" in l]
    check(len(errs) == 1 and
          re.search(r"<stdin>:10:\d+: not valid JSON: ", errs[0]),
          "bad: error lines %s" % errs)
    check(c.states and c.states[-1] == 5 and 100 not in c.states,
          "bad: %s" % c.tell())
    for d in ("a", "b"):
        check(c.ids(d) == set(range(7)), "bad: %s has %s"
              % (d, sorted(c.ids(d))))
    c.done()


def sigterm():
    """8: SIGTERM mid-stream: exit 1 with a message; what was printed is
    safe."""
    c = Case("sigterm", {"a": "", "b": ", retry_first: 1"},
             "batch: {max_records: 3}\n")
    msgs = [schema()]
    for i in range(9):
        msgs.append(rec(i))
        if i % 3 == 2:
            msgs.append(state(i + 1))
    plan = [["send", msgs + [rec(9), rec(10)]],
            ["wait_file", c.path("never")]]

    def on_state(c, n):
        if len(c.states) == 1:
            c.tgt.send_signal(signal.SIGTERM)

    rc = c.run(plan, on_state, tap_ends=False)
    check(rc == 1, "sigterm: exit %s; %s" % (rc, c.tell()))
    check("stopped by a signal" in c.stderr, "sigterm: %s" % c.stderr)
    check(len(c.states) >= 1, "sigterm: %s" % c.tell())
    c.done()


def sigterm_twice():
    """A second SIGTERM stops the loads in progress instead of waiting
    run.grace for them: exit 1, the load killed (its records are not in
    b), no STATE that needs it."""
    journal = "journal_b"
    c = Case("sigterm2", {"a": "", "b": ", sleep_ms: 60000, journal: ./%s"
                          % journal}, "batch: {max_records: 3}\n",
             grace="60s")
    plan = [["send", [schema(), state(0), rec(0), rec(1), rec(2),
                      state(3)]],
            ["wait_file", c.path("never")]]
    sent = []

    def on_tick(c):
        # The first once b is loading, the second once the target says it
        # waits for that load (two at once would be one: signals merge).
        j = c.path(journal)
        if not sent and os.path.exists(j) and "start" in open(j).read():
            sent.append(1)
            c.tgt.send_signal(signal.SIGTERM)
        elif len(sent) == 1 and "stopping; waiting" in c.stderr_so_far():
            sent.append(2)
            c.tgt.send_signal(signal.SIGTERM)

    rc = c.run(plan, tap_ends=False, on_tick=on_tick)
    check(sent == [1, 2], "sigterm2: signals sent %s; %s" % (sent, c.tell()))
    check(rc == 1, "sigterm2: exit %s; %s" % (rc, c.tell()))
    check("stopped by a signal" in c.stderr, "sigterm2: %s" % c.stderr)
    check(c.ids("b") == set() and 3 not in c.states,
          "sigterm2: b has %s; %s" % (c.ids("b"), c.tell()))
    c.done()


def usage():
    """9: files as arguments, or no integration: usage errors."""
    c = Case("usage", {"a": ""})
    p = subprocess.run([DRAY, "target", "-c", c.cfg, "--integration", "i",
                        "in.jsonl"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    check(p.returncode == 2 and "stdin" in p.stderr and
          "dray target --help" in p.stderr and p.stdout == "",
          "usage FILE: %s %r %r" % (p.returncode, p.stdout, p.stderr))
    p = subprocess.run([DRAY, "target", "-c", c.cfg], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    check(p.returncode == 2 and "--integration" in p.stderr,
          "usage no integration: %s %r" % (p.returncode, p.stderr))
    c.done()


def cannot_start():
    """A routed destination whose plugin cannot start: the other one
    loads, nothing unsafe prints, and at the end of input the target
    gives up on it: exit 1, not a wait forever."""
    c = Case("nostart", {"a": ""}, "batch: {max_records: 3}\n")
    with open(c.cfg, "a") as f:
        f.write("  - name: gone\n    plugin: nosuchplugin\n")
    c.dirs = {"a": c.dirs["a"]}
    rc = c.run([["send", [schema(), rec(0), rec(1), rec(2), state(3)]]])
    check(rc == 1, "nostart: exit %s; %s" % (rc, c.tell()[-2000:]))
    check(c.states == [], "nostart: %s" % c.states)
    check(c.ids("a") == {0, 1, 2}, "nostart: a has %s" % c.ids("a"))
    check("destination 'gone': cannot start" in c.stderr and
          "nosuchplugin" in c.stderr, "nostart: %s" % c.stderr[-2000:])
    c.done()


start = time.monotonic()
for t in (real_pipeline, volume, case5_failure, case6_streams,
          case7_pass_through, destination_down, bad_input, sigterm,
          sigterm_twice, usage, cannot_start):
    t0 = time.monotonic()
    t()
    print("%s: %.1f s" % (t.__name__, time.monotonic() - t0))
finish(" in %.1f s" % (time.monotonic() - start))
