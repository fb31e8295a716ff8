"""Shared helpers of the spool tests (tests/spool/*.py): Singer input,
configs, running 'dray put' and 'dray state', reading a spool back with
spool_dump, and the invariants every test checks.

Every script takes --dray (the dray binary) and --dump (spool_dump), prints
what it checked and exits 0, 1 on a failure, or 77 when it is skipped.
Python standard library only.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


class Failure(Exception):
    """A check failed; the message says what was expected and what came."""


def check(cond, message):
    if not cond:
        raise Failure(message)


def parse_args(extra=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--dray", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch folder")
    if extra:
        extra(ap)
    a = ap.parse_args()
    a.dray = os.path.abspath(a.dray)
    a.dump = os.path.abspath(a.dump)
    return a


def scratch_base(memory):
    """Where scratch folders go: $DRAY_SPOOL_TEST_DIR when set; else, for
    tests that want speed (memory), /dev/shm when writable: fsync there
    costs nothing, and a SIGKILL loses no more on a tmpfs than on a disk
    (the page cache survives a killed process either way); else $TMPDIR."""
    if os.environ.get("DRAY_SPOOL_TEST_DIR"):
        return os.environ["DRAY_SPOOL_TEST_DIR"]
    if memory and os.path.isdir("/dev/shm") and os.access("/dev/shm",
                                                           os.W_OK):
        return "/dev/shm"
    return None


def main(fn, extra=None, memory=False):
    """Runs fn(args, scratch) with a scratch folder; maps the outcome to
    the exit status. fn returns None (passed) or a skip reason."""
    a = parse_args(extra)
    base = scratch_base(memory)
    scratch = tempfile.mkdtemp(prefix="dray-spoolcheck-", dir=base)
    name = os.path.basename(sys.argv[0])
    started = time.monotonic()
    try:
        skipped = fn(a, scratch)
    except Failure as e:
        print(f"FAIL {name}: {e}")
        print(f"(scratch folder kept: {scratch})")
        return 1
    if skipped:
        print(f"SKIP {name}: {skipped}")
        status = SKIP
    else:
        print(f"ok {name} ({time.monotonic() - started:.1f} s)")
        status = 0
    if not a.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return status


# ---- Singer input ----

def schema_line(stream, props=None, keys=("id",)):
    props = props or {"id": {"type": "integer"},
                      "name": {"type": ["null", "string"]},
                      "v": {"type": "integer"}}
    return json.dumps({"type": "SCHEMA", "stream": stream,
                       "schema": {"type": "object", "properties": props},
                       "key_properties": list(keys)},
                      separators=(",", ":"))


def record_line(stream, rec):
    return json.dumps({"type": "RECORD", "stream": stream, "record": rec},
                      separators=(",", ":"))


def state_line(value):
    return json.dumps({"type": "STATE", "value": value},
                      separators=(",", ":"))


class Input:
    """A deterministic Singer stream: SCHEMA lines first, then records of
    the streams interleaved, each with a unique integer "id" (its position
    among all records, plus id_base), and STATE {"n": K} after every
    state_every records (K records so far).

    lines: the text lines; recs: per line, (stream, id) or None;
    states: per line, K or None; ids[stream]: ids in input order."""

    def __init__(self, streams, count, seed, state_every=0, id_base=0,
                 pad=0, weights=None):
        rng = random.Random(seed)
        self.streams = list(streams)
        self.lines, self.recs, self.states = [], [], []
        self.ids = {s: [] for s in self.streams}
        self.records = {}
        for s in self.streams:
            self._add(schema_line(s))
        weights = weights or [1] * len(self.streams)
        for i in range(count):
            s = rng.choices(self.streams, weights)[0]
            rid = id_base + i
            rec = {"id": rid,
                   "name": None if rng.random() < 0.1 else
                   "n%d-%s" % (rid, "x" * rng.randint(0, pad)),
                   "v": rng.randint(-10**9, 10**9)}
            self._add(record_line(s, rec), (s, rid))
            self.ids[s].append(rid)
            self.records[rid] = (s, rec)
            if state_every and (i + 1) % state_every == 0:
                self._add(state_line({"n": i + 1}), state=i + 1)
        self.data = ("\n".join(self.lines) + "\n").encode()
        self.n_schema = len(self.streams)

    def _add(self, line, rec=None, state=None):
        self.lines.append(line)
        self.recs.append(rec)
        self.states.append(state)

    def state_line_index(self, n):
        """The line index of the STATE {"n": n}."""
        return self.states.index(n)

    def ids_before_line(self, line):
        return [r[1] for r in self.recs[:line] if r]

    def resume_data(self, after_line):
        """What a tap sends when it restarts from the STATE at after_line:
        its SCHEMA messages again, then everything after that STATE."""
        lines = self.lines[:self.n_schema] + self.lines[after_line + 1:]
        return ("\n".join(lines) + "\n").encode()


# ---- configs and commands ----

def write_config(folder, spool="spool", batch=None, spool_opts=None,
                 extra=""):
    """Writes folder/dray.yml; returns its path."""
    os.makedirs(folder, exist_ok=True)
    sp = {"path": spool}
    sp.update(spool_opts or {})
    text = "spool: {%s}\n" % ", ".join(f"{k}: {v}" for k, v in sp.items())
    if batch:
        text += "batch: {%s}\n" % ", ".join(f"{k}: {v}"
                                           for k, v in batch.items())
    text += extra
    path = os.path.join(folder, "dray.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAY_")}
    # Sanitizer reports must fail the test, not scroll by.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


def put_cmd(a, config, integration, files=()):
    return [a.dray, "put", "-c", config, "--integration", integration,
            *files]


def run_put(a, config, integration, data, files=(), timeout=120):
    """Runs dray put to the end with data on stdin; returns the
    CompletedProcess (text output)."""
    return subprocess.run(put_cmd(a, config, integration, files),
                          input=data, capture_output=True, timeout=timeout,
                          env=clean_env())


def put_ok(a, config, integration, data, what="dray put"):
    p = run_put(a, config, integration, data)
    check(p.returncode == 0,
          f"{what} exited {p.returncode}, expected 0; stderr:\n"
          f"{p.stderr.decode(errors='replace')}")
    return p


def state(a, config, integration):
    """The saved STATE of integration (parsed JSON), or None when none."""
    p = subprocess.run([a.dray, "state", "-c", config, "--integration",
                        integration], capture_output=True, text=True,
                       timeout=60, env=clean_env())
    check(p.returncode == 0,
          f"dray state exited {p.returncode}; stderr:\n{p.stderr}")
    out = p.stdout.strip()
    if out in ("", "null"):
        return None
    try:
        return json.loads(out)
    except ValueError:
        raise Failure(f"dray state printed no JSON: {p.stdout!r}")


def dump(a, spool, allow_damage=False):
    """The records of a spool in spool order, as dicts (spool_dump's
    lines). Fails on a damaged batch unless allow_damage; then returns
    (records, stderr lines, exit status)."""
    p = subprocess.run([a.dump, spool], capture_output=True, timeout=120,
                       env=clean_env())
    err = p.stderr.decode(errors="replace")
    if not allow_damage:
        check(p.returncode == 0,
              f"spool_dump {spool} exited {p.returncode}, expected 0 "
              f"(every visible batch complete); stderr:\n{err}")
    rows = parse_lines(p.stdout)
    if allow_damage:
        return rows, err.splitlines(), p.returncode
    return rows


def dump_batches(a, spool):
    p = subprocess.run([a.dump, "--batches", spool], capture_output=True,
                       timeout=120, env=clean_env())
    check(p.returncode == 0,
          f"spool_dump --batches {spool} exited {p.returncode}; stderr:\n"
          f"{p.stderr.decode(errors='replace')}")
    return parse_lines(p.stdout)


def parse_lines(out):
    """JSON lines (bytes) into a list, in one parse."""
    out = out.strip()
    return json.loads(b"[" + out.replace(b"\n", b",") + b"]") if out else []


# ---- invariants ----

def ids_by_stream(rows, integration=None):
    """{stream: [id, ...]} in spool order."""
    out = {}
    for r in rows:
        if integration is None or r["integration"] == integration:
            out.setdefault(r["stream"], []).append(r["record"]["id"])
    return out


def check_records_match(rows, inp):
    """Every record in the spool is one of the input, unchanged, in the
    stream it was sent to, and not rejected."""
    for r in rows:
        rid = r["record"].get("id")
        want = inp.records.get(rid)
        if want is None or r["stream"] != want[0] or \
                r["record"] != want[1] or r["rejected"]:
            raise Failure(f"record {r['record']} (stream {r['stream']}, "
                          f"batch {r['batch']}, rejected {r['rejected']}) "
                          f"is not one of the input as sent: "
                          f"{want or 'no record of that id was sent'}")


def check_prefix(rows, inp, integration=None):
    """Per stream, the records present are exactly the first m records of
    that stream in input order (batches commit in order; an uncommitted
    tail may be missing). Returns {stream: m}."""
    got = ids_by_stream(rows, integration)
    out = {}
    for s in inp.streams:
        ids = got.get(s, [])
        want = inp.ids[s][:len(ids)]
        if ids != want:
            bad = next(i for i, (x, y) in enumerate(zip(ids, want + [None]))
                       if x != y)
            raise Failure(f"stream {s}: the spool's records are not a prefix "
                          f"of the input: at position {bad} the spool has "
                          f"id {ids[bad]}, the input has "
                          f"{want[bad] if bad < len(want) else 'nothing'} "
                          f"({len(ids)} records present, "
                          f"{len(inp.ids[s])} sent)")
        out[s] = len(ids)
    extra = set(got) - set(inp.streams)
    check(not extra, f"streams in the spool that were never sent: {extra}")
    return out


def check_state_durable(saved, inp, rows):
    """The saved STATE {"n": K} claims no record that is not durable: all
    records before that STATE line are in the spool. Returns the line
    index of that STATE, or None."""
    if saved is None:
        return None
    check(isinstance(saved, dict) and isinstance(saved.get("n"), int),
          f"the saved STATE is not one that was sent: {saved}")
    k = saved["n"]
    check(k in inp.states, f"the saved STATE {saved} was never sent")
    line = inp.state_line_index(k)
    present = {r["record"]["id"] for r in rows}
    missing = [i for i in inp.ids_before_line(line) if i not in present]
    check(not missing,
          f"the saved STATE {saved} claims {k} records, but "
          f"{len(missing)} records before it are not in the spool "
          f"(first missing id {missing[:1]}); {len(present)} durable")
    return line


def check_unique_batches(batches):
    ids = [b["batch"] for b in batches]
    check(len(ids) == len(set(ids)), "batch ids repeat: " +
          str(sorted(i for i in set(ids) if ids.count(i) > 1)[:3]))
    for b in batches:
        check(b["file"] == b["batch"] + ".batch",
              f"batch file {b['file']} holds batch {b['batch']}")


def check_stream_order(batches):
    """Per stream, in spool order: batch numbers rise, sequence ranges are
    disjoint and rising, creation times strictly rise."""
    last = {}
    for b in batches:
        key = (b["integration"], b["stream"])
        num = int(b["batch"].rsplit("-", 1)[1])
        end = b["first_sequence"] + b["records"] - 1
        if key in last:
            pnum, pend, pcreated = last[key]
            check(num > pnum, f"{key}: batch number {num} after {pnum}")
            check(b["first_sequence"] > pend,
                  f"{key}: batch {b['batch']} starts at sequence "
                  f"{b['first_sequence']}, the one before ended at {pend}")
            check(b["created_at_ms"] > pcreated,
                  f"{key}: batch {b['batch']} created at "
                  f"{b['created_at_ms']}, not after {pcreated}")
        last[key] = (num, end, b["created_at_ms"])


def wait_until(cond, timeout, what, interval=0.02):
    """Polls cond() until it is true (bounded); fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure(f"gave up after {timeout} s waiting for {what}")
        time.sleep(interval)


def one_line_error(stderr, what):
    """stderr (bytes) holds exactly one non-empty line; returns it."""
    lines = [ln for ln in stderr.decode(errors="replace").splitlines()
             if ln.strip()]
    check(len(lines) == 1,
          f"{what}: expected a one-line error, got {len(lines)} lines:\n" +
          "\n".join(lines))
    return lines[0]


def batch_files(spool):
    d = os.path.join(spool, "batches")
    try:
        return sorted(f for f in os.listdir(d) if f.endswith(".batch"))
    except FileNotFoundError:
        return []


def spool_bytes(spool):
    d = os.path.join(spool, "batches")
    total = 0
    for f in batch_files(spool):
        try:
            total += os.path.getsize(os.path.join(d, f))
        except FileNotFoundError:
            pass
    return total


def make_overflow(spool, overflow):
    """A second folder that reads as the same spool (same FORMAT) to hold
    batches a test moves out of it, as a loader would consume them."""
    os.makedirs(os.path.join(overflow, "batches"), exist_ok=True)
    shutil.copy(os.path.join(spool, "FORMAT"), overflow)


def move_batch(spool, overflow, name):
    """Moves one batch out (copy, fsync-free: a test folder, then unlink),
    as a loader that finished it would delete it."""
    src = os.path.join(spool, "batches", name)
    dst = os.path.join(overflow, "batches", name)
    shutil.copyfile(src, dst + ".part")
    os.rename(dst + ".part", dst)
    os.unlink(src)


def put_with_mover(a, config, integration, data, spool, overflow, is_full,
                   timeout=120, idle_polls=5):
    """Runs dray put on data (fed by a thread) while this process plays a
    loader: whenever the spool is full (is_full()) and nothing has changed
    for idle_polls polls (put is waiting), it moves the oldest third of the
    batches into overflow. Bounded: fails after timeout seconds. Returns
    (exit status, stderr text, batches moved, times put was found
    stalled)."""
    import threading
    err_path = os.path.join(os.path.dirname(config), "put.stderr")
    with open(err_path, "wb") as err:
        p = subprocess.Popen(put_cmd(a, config, integration),
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=err, env=clean_env())

    def feed():
        try:
            for at in range(0, len(data), 65536):
                p.stdin.write(data[at:at + 65536])
            p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    deadline = time.monotonic() + timeout
    moved, stalls, last, same = 0, 0, None, 0
    try:
        while p.poll() is None:
            check(time.monotonic() < deadline,
                  f"dray put with spool.on_full: wait did not finish in "
                  f"{timeout} s ({moved} batches moved out)")
            files = batch_files(spool)
            now = (tuple(files), is_full())
            same = same + 1 if now == last else 0
            last = now
            if now[1] and files and same >= idle_polls:
                if not os.path.exists(os.path.join(overflow, "FORMAT")):
                    make_overflow(spool, overflow)
                # The oldest third: fewer, longer waits than one by one.
                for name in files[:max(1, len(files) // 3)]:
                    move_batch(spool, overflow, name)
                    moved += 1
                stalls += 1
                same = 0
            time.sleep(0.02)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        feeder.join(10)
    with open(err_path, "rb") as f:
        return (p.returncode, f.read().decode(errors="replace"), moved,
                stalls)


def dump_merged(a, spools):
    """The records of several folders holding batches of one spool, in
    spool order (batch ids sort in it)."""
    rows = []
    for s in spools:
        if os.path.exists(os.path.join(s, "FORMAT")):
            rows += dump(a, s)
    return sorted(rows, key=lambda r: (r["batch"], r["index"]))
