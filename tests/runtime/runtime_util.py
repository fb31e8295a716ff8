"""Shared by the `dray run` tests (test_run.py, test_run_kill.py).

A Spool is a temporary folder with a config, a spool and one out_dir and
journal per destination of the echo test plugin. Everything a test asserts
on is what a user could look at: the files the plugin wrote (one
<batch id>.jsonl per loaded batch), its journal, the spool's batches/ and
dest/ markers, and `dray run`'s exit code and stderr.

The echo plugin's journal has one line per load start and end:
    start <batch> <attempt> <pid>
    commit <batch> <attempt> <pid>     (its file is in place)
    fail <batch> <attempt> <pid>       (it returned an error)
A worker that died wrote neither of the last two.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from checks import check, finish  # noqa: F401 (re-exported)

DRAY, PLUGINS = sys.argv[1], sys.argv[2]
SANITIZED = bool(os.environ.get("DRAY_SANITIZED"))
# Sanitizer builds are slower: waits get longer, assertions stay the same.
SLOW = 4 if SANITIZED else 1
# Small batches so that streams have several: 4 records each.
MR = 4


def env():
    e = dict(os.environ)
    # A plugin's SIGSEGV must kill its worker with signal 11 under ASan
    # too, as it does in a plain build.
    opts = e.get("ASAN_OPTIONS", "")
    e["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "handle_segv=0"
    e.pop("DRAY_CONFIG", None)
    return e


def yaml(v):
    """A value as YAML flow text (JSON strings are YAML strings)."""
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, yaml(x))
                               for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(yaml(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


SCHEMA = {"type": "object",
          "properties": {"id": {"type": "integer"},
                         "v": {"type": ["null", "string"]},
                         "n": {"type": ["null", "integer"]}}}


def records(stream, n, start=0, mark=None):
    """n records of stream with ids start.. ; mark: {index: text for v}."""
    out = []
    for i in range(start, start + n):
        v = (mark or {}).get(i, "%s-%d-\u00e9" % (stream, i))
        out.append({"id": i, "v": v, "n": i * 7 % 13})
    return out


def digest(rec):
    return hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()


class Spool:
    def __init__(self, name):
        self.tmp = tempfile.mkdtemp(prefix="dray-%s-" % name)
        self.cfg = os.path.join(self.tmp, "dray.yml")
        self.spool = os.path.join(self.tmp, "spool")
        self.dests = {}
        self.put_records = {}  # (integration, stream) -> [record]
        self.procs = []  # started in the background
        self.jcache = {}  # dest -> (bytes read, journal lines)

    def close(self):
        for p in self.procs:
            stop(p)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- config ----

    def config(self, dests, run=None, spool=None, max_records=None,
               routes=None, plugin=None):
        """dests: {name: echo options beyond out_dir and journal}, or
        {name: ("plugin", options)} for another plugin."""
        self.dests = {}
        lines = ["spool: %s" % yaml(dict({"path": "./spool"},
                                         **(spool or {})))]
        lines.append("plugin_path: [%s]" % json.dumps(
            os.path.join(PLUGINS, "good")))
        if max_records:
            lines.append("batch: {max_records: %d}" % max_records)
        r = {"concurrency": 2, "poll_interval": "100ms", "grace": "5s",
             "batch_timeout": "%ds" % (30 * SLOW), "crash_limit": 3,
             "retry": {"attempts": 5, "initial": "50ms", "max": "200ms"}}
        r.update(run or {})
        lines.append("run: %s" % yaml(r))
        lines.append("destinations:")
        for name, opts in dests.items():
            plugin = "echo"
            if isinstance(opts, tuple):
                plugin, opts = opts
            o = {"out_dir": "./out-%s" % name,
                 "journal": "./journal-%s" % name}
            o.update(opts or {})
            os.makedirs(os.path.join(self.tmp, "out-%s" % name),
                        exist_ok=True)
            self.dests[name] = o
            lines.append("  - {name: %s, plugin: %s, options: %s}"
                         % (name, plugin, yaml(o)))
        if routes:
            lines.append("routes:")
            for integ, to in routes:
                lines.append("  - {integration: %s, destinations: %s}"
                             % (integ, yaml(to)))
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")

    # ---- commands ----

    def dray(self, *args, timeout=120, stdin=None):
        """Runs dray to its end. Past the (scaled) timeout its whole
        process group is killed, workers too, and TimeoutExpired raised."""
        p = subprocess.Popen([DRAY] + list(args), text=True, env=env(),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = p.communicate(stdin, timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            stop(p)
            p.communicate()
            raise
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def put(self, integration, streams):
        """streams: {stream: [record]}; one put of all of them."""
        lines = []
        for s, recs in streams.items():
            lines.append({"type": "SCHEMA", "stream": s,
                          "key_properties": ["id"], "schema": SCHEMA})
            for r in recs:
                lines.append({"type": "RECORD", "stream": s, "record": r})
            self.put_records.setdefault((integration, s), []).extend(recs)
        p = self.dray("put", "-q", "-c", self.cfg, "--integration",
                      integration,
                      stdin="".join(json.dumps(m) + "\n" for m in lines))
        check(p.returncode == 0, "put: exit %d: %s" % (p.returncode,
                                                       p.stderr))
        return p

    def run(self, *args, timeout=120):
        """dray run --once [args]."""
        return self.dray("run", "--once", "-c", self.cfg, *args,
                         timeout=timeout)

    def start(self, *args, stderr_file=None, new_session=True):
        """dray run [args] in the background; stderr to a file."""
        err = open(stderr_file or os.path.join(self.tmp, "run.err"), "w")
        p = subprocess.Popen([DRAY, "run", "-c", self.cfg] + list(args),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err,
                             env=env(), start_new_session=new_session)
        err.close()
        self.procs.append(p)
        return p

    # ---- what is in the spool ----

    def batches(self):
        """Ids of the batch files in batches/."""
        d = os.path.join(self.spool, "batches")
        return sorted(f[:-len(".batch")] for f in os.listdir(d)
                      if f.endswith(".batch"))

    def batch_file(self, bid):
        return os.path.join(self.spool, "batches", bid + ".batch")

    def marker(self, dest, kind, bid):
        """The text of dest/<dest>/<kind>/<bid>, or None."""
        try:
            with open(os.path.join(self.spool, "dest", dest, kind, bid)) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def markers(self, dest, kind):
        d = os.path.join(self.spool, "dest", dest, kind)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def reason(self, dest, bid):
        text = self.marker(dest, "quarantined", bid)
        return None if text is None else text.split("\t", 1)[-1].strip()

    # ---- what the plugin wrote ----

    def loaded(self, dest):
        """{batch id: (header, [record data])} from out-<dest>/."""
        out = {}
        d = os.path.join(self.tmp, "out-%s" % dest)
        for f in sorted(os.listdir(d)):
            if not f.endswith(".jsonl"):
                continue  # a crashed load's temporary file
            with open(os.path.join(d, f)) as fh:
                lines = fh.read().splitlines()
            head = json.loads(lines[0])
            out[f[:-len(".jsonl")]] = (head, [json.loads(x)["data"]
                                              for x in lines[1:]])
        return out

    def rows(self, dest):
        """{(integration, stream, id): [digest, ...]} of every row loaded."""
        got = {}
        for head, recs in self.loaded(dest).values():
            for r in recs:
                got.setdefault((head["integration"], head["stream"],
                                r["id"]), []).append(digest(r))
        return got

    def check_exactly_once(self, dest, only=None):
        """Every record put (of the (integration, stream) keys in only, or
        all) is in dest's files exactly once, with its content, and nothing
        else is."""
        got = self.rows(dest)
        want = {}
        for key, recs in self.put_records.items():
            if only is not None and key not in only:
                continue
            for r in recs:
                want[(key[0], key[1], r["id"])] = digest(r)
        missing = [k for k in want if k not in got]
        dup = [k for k, v in got.items() if len(v) > 1]
        changed = [k for k in want if k in got and got[k][0] != want[k]]
        extra = [k for k in got if k not in want]
        ok = check(not missing and not dup and not changed and not extra,
                   "%s: exactly once: %d missing %s, %d twice %s, "
                   "%d changed %s, %d unexpected %s"
                   % (dest, len(missing), missing[:3], len(dup), dup[:3],
                      len(changed), changed[:3], len(extra), extra[:3]))
        return ok

    def journal(self, dest):
        """[(what, batch, attempt, pid)] in the order written. The file
        only grows: what was read before is not read again."""
        off, lines = self.jcache.get(dest, (0, []))
        try:
            with open(os.path.join(self.tmp, "journal-%s" % dest),
                      "rb") as f:
                f.seek(off)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1  # whole lines only
        for line in data[:end].decode().splitlines():
            w, b, a, p = line.split()
            lines.append((w, b, int(a), int(p)))
        self.jcache[dest] = (off + end, lines)
        return list(lines)

    def starts(self, dest, bid):
        return [j for j in self.journal(dest) if j[0] == "start" and
                j[1] == bid]


def overlaps(journal, deaths=None):
    """Loads of one batch that overlapped in time: a start of a batch while
    an earlier load of it had neither ended (commit or fail by its pid) nor
    had its worker seen dead. deaths: {pid: journal length by which the
    test saw it dead}. Returns a list of descriptions."""
    deaths = deaths or {}
    open_loads = {}  # batch -> (pid, index of its start)
    bad = []
    for i, (what, bid, attempt, pid) in enumerate(journal):
        if what == "start":
            o = open_loads.get(bid)
            if o is not None:
                dead_at = deaths.get(o[0])
                if dead_at is None or dead_at > i:
                    bad.append("batch %s: load by pid %d (line %d) still "
                               "running when pid %d started it (line %d)"
                               % (bid, o[0], o[1] + 1, pid, i + 1))
            open_loads[bid] = (pid, i)
        elif open_loads.get(bid, (None,))[0] == pid:
            del open_loads[bid]
    return bad


def attempts_grow(journal):
    """Batches whose attempt numbers did not strictly grow, start to
    start."""
    last, bad = {}, []
    for what, bid, attempt, pid in journal:
        if what != "start":
            continue
        if bid in last and attempt <= last[bid]:
            bad.append("batch %s: attempt %d after %d" % (bid, attempt,
                                                          last[bid]))
        last[bid] = attempt
    return bad


def out_of_order(journal):
    """Per stream, batch numbers of starts never go down: a batch starts
    only once every earlier batch of its stream is done."""
    last, bad = {}, []
    for what, bid, attempt, pid in journal:
        if what != "start":
            continue
        stream, num = bid[:53], int(bid[54:])
        if num < last.get(stream, 0):
            bad.append("batch %s started after batch %d of its stream"
                       % (bid, last[stream]))
        last[stream] = max(num, last.get(stream, 0))
    return bad


def wait_for(cond, timeout, step=0.01):
    """Waits (scaled) for cond() to be true; returns its last value."""
    until = time.monotonic() + timeout * SLOW
    while True:
        v = cond()
        if v or time.monotonic() >= until:
            return v
        time.sleep(step)


def gone(pid):
    """The process is gone or a zombie: it can write nothing more."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def _live(field, value):
    """Pids whose /proc stat field (1 ppid, 2 pgid, counted after the
    state) equals value, neither gone nor zombies."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[field]) == value and fields[0] not in "ZX":
            out.append(int(pid))
    return out


def group_alive(pgid):
    """Pids of the process group that are neither gone nor zombies."""
    return _live(2, pgid)


def workers(ppid):
    """Pids of the live child processes of ppid (its workers)."""
    return _live(1, ppid)


def worker_of(pid, cfg):
    """pid is a live `dray __worker` of this config."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return False
    return b"__worker" in argv and cfg.encode() in argv and not gone(pid)


def stop(p):
    """Ends a dray the test started in a session of its own, and what is
    left of its process group (workers that outlived it)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    p.wait()


def exit_code(p, timeout):
    """p's exit status, or None when it has not ended within timeout."""
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def run_tests(tests):
    """Runs each test (ONLY=word: those whose name holds it), timing
    each, then prints the tally and exits."""
    only = os.environ.get("ONLY")
    for t in tests:
        if only and only not in t.__name__:
            continue
        t0 = time.monotonic()
        t()
        print("%s: %.1f s" % (t.__name__, time.monotonic() - t0), flush=True)
    finish()
