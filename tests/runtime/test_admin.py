#!/usr/bin/env python3
"""dray status, requeue and quarantine on a real spool.

Every state the commands look at is made by the real commands: batches by
`dray put`, quarantines, acks, counts and last errors by `dray run --once`
loading into the echo test plugin (max_rows and fail_mode make it refuse
batches permanently; a destination taken out of the config gets its
batches quarantined by `dray run`). Only damage is made by hand (a flipped
byte), and a lease is an flock the test holds, as a loader does. Every
check is on the commands' output, exit codes and the spool's files.

usage: test_admin.py DRAY PLUGIN_DIR
"""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from checks import check, finish

DRAY, PLUGINS = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])


def dray(*args):
    return subprocess.run([DRAY] + list(args), capture_output=True, text=True)


def write_config(tmp, dests, routes, spool="./spool"):
    """dests: [(name, extra echo options)]; routes: [(integration,
    [destination...])]."""
    cfg = os.path.join(tmp, "dray.yml")
    os.makedirs(os.path.join(tmp, "out"), exist_ok=True)
    with open(cfg, "w") as f:
        f.write("spool: {path: %s, max_bytes: 10MiB}\n" % spool)
        f.write("plugin_path: [%s]\n" % os.path.join(PLUGINS, "good"))
        f.write("destinations:\n")
        for name, options in dests:
            f.write("  - {name: %s, plugin: echo, options: {out_dir: ./out%s}}"
                    "\n" % (name, ", " + options if options else ""))
        f.write("routes:\n")
        for integ, to in routes:
            f.write("  - {integration: %s, destinations: [%s]}\n"
                    % (integ, ", ".join(to)))
    return cfg


SCHEMA = {"type": "object",
          "properties": {"id": {"type": "integer"},
                         "v": {"type": ["null", "string"]},
                         "o": {"type": ["null", "object"],
                               "properties": {"x": {"type": "number"}}}}}


def put(cfg, integration, stream, records):
    """Puts records as one batch; returns its id."""
    batches = os.path.join(os.path.dirname(cfg), "spool", "batches")
    before = set(os.listdir(batches)) if os.path.isdir(batches) else set()
    lines = [{"type": "SCHEMA", "stream": stream, "key_properties": ["id"],
              "schema": SCHEMA}]
    lines += [{"type": "RECORD", "stream": stream, "record": r}
              for r in records]
    p = subprocess.run([DRAY, "put", "-q", "-c", cfg, "--integration",
                        integration],
                       input="".join(json.dumps(m) + "\n" for m in lines),
                       text=True, capture_output=True)
    check(p.returncode == 0, "put: " + p.stderr)
    new = sorted(set(os.listdir(batches)) - before)
    check(len(new) == 1, "put made one batch: %s" % new)
    return new[0][:-len(".batch")]


def run(cfg, *dests, expect=(0, 4)):
    """dray run --once, for the given destinations (all when none)."""
    args = ["run", "--once", "-q", "-c", cfg]
    for d in dests:
        args += ["--destination", d]
    p = dray(*args)
    check(p.returncode in expect, "run %s: exit %d, expected %s: %s"
          % (dests, p.returncode, expect, p.stderr))
    return p


def status(cfg):
    p = dray("status", "-c", cfg, "--json")
    check(p.returncode == 0, "status exit %d: %s" % (p.returncode, p.stderr))
    return json.loads(p.stdout)


def dest_of(st, name):
    for d in st["destinations"]:
        if d["name"] == name:
            return d
    check(False, "destination %s in status: %s" % (name, st))
    return {}


def quarantined(st):
    return [(q["destination"], q["batch"]) for q in st["quarantined"]]


def batch_file(spool, bid):
    return os.path.join(spool, "batches", bid + ".batch")


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        c = f.read(1)
        f.seek(offset)
        f.write(bytes([c[0] ^ 0x20]))


R1 = [{"id": 1, "v": "x"}, {"id": 2, "v": "\u00fc \"q\""},
      {"id": 3, "v": None, "o": {"x": 1.5}}]
R2 = [{"id": 4, "v": "y"}, {"id": 5}]
R3 = [{"id": 6, "v": "z"}]
TOO_MANY = "E_PERMANENT: batch has 3 rows, more than max_rows 2"


def test_status_requeue_show_export(tmp):
    spool = os.path.join(tmp, "spool")
    small_a = ("a", "max_rows: 2")       # refuses batches over 2 records
    cfg = write_config(tmp, [small_a, ("b", "fail_mode: permanent"),
                             ("old", "")],
                       [("i", ["a", "b", "old"]), ("j", ["a"])])
    b1 = put(cfg, "i", "s", R1)
    b2 = put(cfg, "i", "s", R2)
    b3 = put(cfg, "j", "t", R3)
    # 'old' leaves the config; its batches stay in the spool.
    routes = [("i", ["a", "b"]), ("j", ["a"])]
    cfg = write_config(tmp, [small_a, ("b", "fail_mode: permanent")], routes)

    st = status(cfg)
    check([d["name"] for d in st["destinations"]] == ["a", "b", "old"],
          "destinations, config order then removed: %s" % st)
    a, b, old = (dest_of(st, n) for n in ("a", "b", "old"))
    check((a["pending"], a["pending_rows"]) == (3, 6), "a pending: %s" % a)
    check((b["pending"], b["pending_rows"]) == (2, 5), "b pending: %s" % b)
    check((old["pending"], old["pending_rows"]) == (2, 5),
          "removed destination pending: %s" % old)
    for d in (a, b, old):
        check(d["quarantined"] == 0 and d["quarantined_rows"] == 0,
              "nothing quarantined yet: %s" % d)
        check(d["last_error"] is None, "no last error: %s" % d)
        check(d["loading"] == 0 and d["loaded"] == 0, "idle: %s" % d)
        check(0 <= d["oldest_pending_age_s"] < 3600, "age: %s" % d)
    size = sum(os.path.getsize(batch_file(spool, x)) for x in (b1, b2, b3))
    check(st["spool"] == {"bytes": size, "limit_bytes": 10 * 1024 * 1024},
          "spool: %s, files %d" % (st["spool"], size))
    check(st["quarantined"] == [], "quarantined: %s" % st["quarantined"])
    p = dray("status", "-c", cfg)
    check(p.returncode == 0 and "old" in p.stdout and
          "not in the config" in p.stdout, "text status: %s" % p.stdout)

    # a refuses b1 (3 records), which holds b2 back, and loads b3; the
    # removed destination's batches are quarantined there.
    run(cfg, "a", expect=(4,))
    check(not os.path.exists(batch_file(spool, b3)),
          "b3, loaded by its only route, is gone")
    st = status(cfg)
    a, b, old = (dest_of(st, n) for n in ("a", "b", "old"))
    check((a["pending"], a["pending_rows"]) == (1, 2),
          "a pending after the run: %s" % a)
    check((a["quarantined"], a["quarantined_rows"]) == (1, 3),
          "a quarantined: %s" % a)
    check((a["loaded"], a["rows_loaded"], a["rows_rejected"]) == (1, 1, 0),
          "a's counts: %s" % a)
    check((b["pending"], b["quarantined"], b["last_error"]) == (2, 0, None),
          "b was not run: %s" % b)
    check((old["pending"], old["quarantined"], old["quarantined_rows"]) ==
          (0, 2, 5), "removed destination quarantined: %s" % old)
    check(quarantined(st) == [("a", b1), ("old", b1), ("old", b2)],
          "quarantined list: %s" % st["quarantined"])
    check(st["quarantined"][0]["stream"] == "s" and
          st["quarantined"][0]["reason"] == TOO_MANY and
          "not in the config" in st["quarantined"][1]["reason"],
          "reasons: %s" % st["quarantined"])
    size = sum(os.path.getsize(batch_file(spool, x)) for x in (b1, b2))
    check(st["spool"]["bytes"] == size, "spool bytes: %s" % st["spool"])
    p = dray("status", "-c", cfg)
    check(TOO_MANY in p.stdout and b1 in p.stdout,
          "text status lists the quarantined batch: %s" % p.stdout)

    # A loader's lease on stream s at a: loading there, nowhere else.
    leases = os.path.join(spool, "dest", "a", "leases")
    os.makedirs(leases, exist_ok=True)
    with open(os.path.join(leases, b2[37:53] + ".lock"), "w") as lease:
        fcntl.flock(lease, fcntl.LOCK_EX)
        st = status(cfg)
        check(dest_of(st, "a")["loading"] == 1, "loading while leased: %s"
              % dest_of(st, "a"))
        check(dest_of(st, "b")["loading"] == 0, "b not loading")
    check(dest_of(status(cfg), "a")["loading"] == 0, "lease released")

    # show: what it holds and why it is held back, per route.
    p = dray("quarantine", "-c", cfg, "show", b1)
    check(p.returncode == 0, "show exit %d: %s" % (p.returncode, p.stderr))
    for want in ("a: quarantined: " + TOO_MANY, "attempts 1", "b: pending",
                 "old: quarantined: destination 'old' is not in the config",
                 "stream       s", "records      3", "integration  i"):
        check(want in p.stdout, "show has %r: %s" % (want, p.stdout))
    p = dray("quarantine", "-c", cfg, "show", batch_file(spool, b1),
             "--destination", "b")
    check(p.returncode == 0 and "b: pending" in p.stdout and
          "max_rows" not in p.stdout, "show --destination b: %s" % p.stdout)
    p = dray("quarantine", "-c", cfg, "show", "nosuch")
    check(p.returncode == 1 and p.stdout == "" and
          "no batch 'nosuch' in the spool at %s" % os.path.realpath(spool)
          in p.stderr, "show of an unknown batch: %s" % p.stderr)

    # export: the records as put.
    p = dray("quarantine", "-c", cfg, "export", b1)
    check(p.returncode == 0, "export exit %d: %s" % (p.returncode, p.stderr))
    check([json.loads(line) for line in p.stdout.splitlines()] == R1,
          "export gives the records put: %s" % p.stdout)

    # requeue: errors name the batch and leave the others alone.
    p = dray("requeue", "-c", cfg, "nosuch")
    check(p.returncode == 1 and "nosuch" in p.stderr and
          "0 batch(es) requeued" in p.stderr, "requeue unknown: %s" % p.stderr)
    p = dray("requeue", "-c", cfg, b1, "nosuch", "--destination", "a")
    check(p.returncode == 1 and "nosuch" in p.stderr and
          "1 batch(es) requeued" in p.stderr,
          "requeue with one unknown: %s" % p.stderr)
    st = status(cfg)
    a = dest_of(st, "a")
    check((a["pending"], a["pending_rows"], a["quarantined"]) == (2, 5, 0),
          "requeued batch is pending again: %s" % a)
    check(quarantined(st) == [("old", b1), ("old", b2)],
          "requeued at a only: %s" % st["quarantined"])
    p = dray("requeue", "-c", cfg, b1, "--destination", "a")
    check(p.returncode == 1 and "not quarantined" in p.stderr and
          b1 in p.stderr, "requeue of a pending batch: %s" % p.stderr)

    for args in (["--all", b1], [], ["--all", "--destination", "nosuch"]):
        p = dray("requeue", "-c", cfg, *args)
        check(p.returncode == 2, "requeue %s: exit %d" % (args, p.returncode))
    check("'a'" in p.stderr and "'b'" in p.stderr,
          "unknown destination lists the config's: %s" % p.stderr)

    # --all at a removed destination (the spool still has its folder).
    p = dray("requeue", "-c", cfg, "--all", "--destination", "old")
    check(p.returncode == 0 and "2 batch(es) requeued" in p.stderr,
          "requeue at a removed destination: %s" % p.stderr)
    check(dest_of(status(cfg), "old")["pending"] == 2, "old requeued")

    # Quarantined at a (again), b and old; --all per destination, then all.
    run(cfg, expect=(4,))
    st = status(cfg)
    check(quarantined(st) == [("a", b1), ("b", b1), ("old", b1), ("old", b2)],
          "quarantined by the run: %s" % st["quarantined"])
    # b's only outcome was its refusal of b1 (a's run above also loaded b3,
    # so which of its outcomes came last is up to timing).
    b = dest_of(st, "b")
    check(b["last_error"] is not None and b1 in b["last_error"] and
          "destination refuses batch" in b["last_error"],
          "b's last error: %s" % b)
    p = dray("requeue", "-c", cfg, "--all", "--destination", "a")
    check(p.returncode == 0 and "1 batch(es) requeued" in p.stderr,
          "requeue --all at a: %s" % p.stderr)
    check(quarantined(status(cfg)) == [("b", b1), ("old", b1), ("old", b2)],
          "left after --all at a")
    p = dray("requeue", "-c", cfg, "--all")
    check(p.returncode == 0 and "2 batch(es) requeued" in p.stderr,
          "requeue --all: %s" % p.stderr)
    check(status(cfg)["quarantined"] == [], "all requeued")
    run(cfg, "b", expect=(4,))
    p = dray("requeue", "-c", cfg, batch_file(spool, b1), "--destination",
             "b")
    check(p.returncode == 0 and dest_of(status(cfg), "b")["quarantined"] == 0,
          "requeue by path: %s" % p.stderr)

    # a takes big batches now: what was requeued loads.
    cfg = write_config(tmp, [("a", ""), ("b", "fail_mode: permanent")],
                       routes)
    run(cfg, "a")
    a = dest_of(status(cfg), "a")
    check((a["pending"], a["quarantined"], a["loaded"], a["rows_loaded"],
           a["last_error"]) == (0, 0, 3, 6, None),
          "a loaded everything after the requeue: %s" % a)
    p = dray("quarantine", "-c", cfg, "show", b1)
    check("a: acked" in p.stdout, "show after the load: %s" % p.stdout)


def test_damaged(tmp):
    spool = os.path.join(tmp, "spool")
    cfg = write_config(tmp, [("a", ""), ("b", "")], [("i", ["a", "b"])])
    bad = put(cfg, "i", "s", R1)
    broken = put(cfg, "i", "s", R2)
    # A flipped byte inside the records: the checksum catches it.
    flip_byte(batch_file(spool, bad), os.path.getsize(
        batch_file(spool, bad)) // 2)
    p = dray("quarantine", "-c", cfg, "export", bad)
    check(p.returncode == 1 and p.stdout == "" and bad in p.stderr and
          len(p.stderr.splitlines()) == 1,
          "export of a damaged batch: %d %r %r"
          % (p.returncode, p.stdout, p.stderr))
    # A broken end mark: not even the header and footer can be read.
    flip_byte(batch_file(spool, broken),
              os.path.getsize(batch_file(spool, broken)) - 1)
    run(cfg, "a", expect=(4,))
    st = status(cfg)
    a, b = dest_of(st, "a"), dest_of(st, "b")
    check(quarantined(st) == [("a", bad), ("a", broken)],
          "the run quarantined both: %s" % st["quarantined"])
    check((a["quarantined"], a["quarantined_rows"]) == (2, 3),
          "an unreadable batch counts no rows: %s" % a)
    check((b["pending"], b["pending_rows"]) == (1, 3),
          "b: the readable batch pending: %s" % b)
    p = dray("status", "-c", cfg)
    check("cannot be read" in p.stdout and broken in p.stdout,
          "text status lists the unreadable batch: %s" % p.stdout)
    p = dray("quarantine", "-c", cfg, "show", broken)
    check(p.returncode == 0 and "damaged" in p.stdout and
          "a: quarantined: the batch file is damaged" in p.stdout,
          "show of an unreadable batch: %s" % p.stdout)
    p = dray("quarantine", "-c", cfg, "show", bad)
    check(p.returncode == 0 and "records      3" in p.stdout and
          "a: quarantined" in p.stdout and "checksum" in p.stdout,
          "show of a batch with a bad checksum: %s" % p.stdout)
    # The unreadable batch is held back only at a: dropping it there lets
    # the spool delete it, since it can load nowhere.
    p = dray("quarantine", "-c", cfg, "drop", broken, "--destination", "a",
             "--yes")
    check(p.returncode == 0 and
          not os.path.exists(batch_file(spool, broken)) and
          not os.path.exists(os.path.join(spool, "dest", "a", "acked",
                                          broken)),
          "an unreadable batch dropped everywhere it was held is deleted: "
          "%d %r" % (p.returncode, p.stderr))


def test_drop(tmp):
    spool = os.path.join(tmp, "spool")
    routes = [("k", ["a", "b"])]
    a_fails = [("a", "fail_mode: permanent"), ("b", "")]
    cfg = write_config(tmp, a_fails, routes)

    # Quarantined at a, loaded at b.
    done = put(cfg, "k", "s", R1)
    run(cfg, expect=(4,))
    before = status(cfg)
    check(quarantined(before) == [("a", done)] and
          dest_of(before, "b")["loaded"] == 1, "set up: %s" % before)
    p = dray("quarantine", "-c", cfg, "drop", done)
    check(p.returncode == 2 and "--yes" in p.stderr,
          "drop without --yes: %d %s" % (p.returncode, p.stderr))
    check(os.path.exists(batch_file(spool, done)) and status(cfg) == before,
          "drop without --yes changes nothing")
    p = dray("quarantine", "-c", cfg, "drop", done, "--yes")
    check(p.returncode == 0, "drop: %d %s" % (p.returncode, p.stderr))
    check(not os.path.exists(batch_file(spool, done)),
          "dropped where the other route acked: file deleted")
    st = status(cfg)
    check(st["quarantined"] == [] and dest_of(st, "a")["pending"] == 0,
          "after the drop: %s" % st)
    p = dray("quarantine", "-c", cfg, "show", done)
    check(p.returncode == 1 and "no batch" in p.stderr,
          "a deleted batch is gone: %s" % p.stderr)

    # Quarantined at a, b has not loaded it yet: kept for b.
    half = put(cfg, "k", "s", R2)
    run(cfg, "a", expect=(4,))
    p = dray("quarantine", "-c", cfg, "drop", half, "--destination", "a",
             "--yes")
    check(p.returncode == 0 and os.path.exists(batch_file(spool, half)),
          "dropped at a, kept for b: %s" % p.stderr)
    st = status(cfg)
    a, b = dest_of(st, "a"), dest_of(st, "b")
    check(st["quarantined"] == [] and a["quarantined"] == 0,
          "no longer quarantined: %s" % st)
    check(a["pending"] == 0 and b["pending"] == 1,
          "done at a, still pending at b: %s" % st)
    p = dray("quarantine", "-c", cfg, "show", half)
    check("a: dropped" in p.stdout and "b: pending" in p.stdout,
          "show after a drop: %s" % p.stdout)
    run(cfg, "b")
    check(not os.path.exists(batch_file(spool, half)),
          "deleted once b loaded it too")

    # Quarantined at both: which one must be said.
    cfg = write_config(tmp, [("a", "fail_mode: permanent"),
                             ("b", "fail_mode: permanent")], routes)
    both = put(cfg, "k", "s", R3)
    run(cfg, expect=(4,))
    p = dray("quarantine", "-c", cfg, "drop", both, "--yes")
    check(p.returncode == 2 and "a, b" in p.stderr,
          "drop at two destinations needs one: %s" % p.stderr)
    check(quarantined(status(cfg)) == [("a", both), ("b", both)],
          "nothing dropped")
    p = dray("quarantine", "-c", cfg, "drop", both, "--destination", "b",
             "--yes")
    check(p.returncode == 0 and os.path.exists(batch_file(spool, both)),
          "dropped at b, kept while quarantined at a: %s" % p.stderr)
    check(quarantined(status(cfg)) == [("a", both)], "still quarantined at a")

    # Only quarantined batches can be dropped.
    pend = put(cfg, "k", "s2", R2)
    p = dray("quarantine", "-c", cfg, "drop", pend, "--destination", "b",
             "--yes")
    check(p.returncode == 1 and "only quarantined batches" in p.stderr,
          "drop of a pending batch: %s" % p.stderr)
    p = dray("quarantine", "-c", cfg, "drop", pend, "--yes")
    check(p.returncode == 1 and "only quarantined batches" in p.stderr,
          "drop of a batch quarantined nowhere: %s" % p.stderr)
    p = dray("quarantine", "-c", cfg, "drop", "nosuch", "--yes")
    check(p.returncode == 1 and "no batch 'nosuch'" in p.stderr,
          "drop of an unknown batch: %s" % p.stderr)

    # A destination taken out of the config: its batches are given up
    # there, and the spool lets them go once the others are done.
    cfg = write_config(tmp, [("b", "")], [("k", ["b"])])
    run(cfg)
    st = status(cfg)
    check(sorted(quarantined(st)) == sorted([("a", both), ("a", pend)]) and
          dest_of(st, "b")["pending"] == 0,
          "b loaded, a (removed) holds both: %s" % st)
    for bid in (both, pend):
        p = dray("quarantine", "-c", cfg, "drop", bid, "--destination", "a",
                 "--yes")
        check(p.returncode == 0 and not os.path.exists(batch_file(spool,
                                                                  bid)),
              "dropped at the removed destination: %s" % p.stderr)
    check(os.listdir(os.path.join(spool, "batches")) == [],
          "the spool is empty")


def test_no_spool(tmp):
    cfg = write_config(tmp, [("a", "")], [("i", ["a"])], spool="./never")
    st = status(cfg)
    check(st["spool"]["bytes"] == 0 and
          [d["name"] for d in st["destinations"]] == ["a"] and
          dest_of(st, "a")["pending"] == 0 and st["quarantined"] == [],
          "no spool yet: %s" % st)
    p = dray("requeue", "-c", cfg, "--all")
    check(p.returncode == 0 and "0 batch(es)" in p.stderr,
          "requeue --all without a spool: %s" % p.stderr)
    p = dray("quarantine", "-c", cfg, "show", "x")
    check(p.returncode == 1 and "no batch 'x'" in p.stderr,
          "show without a spool: %s" % p.stderr)
    check(not os.path.exists(os.path.join(tmp, "never")),
          "the commands never create a spool")


for test in (test_status_requeue_show_export, test_damaged, test_drop,
             test_no_spool):
    tmp = tempfile.mkdtemp(prefix="dray-admin-")
    try:
        test(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

finish()
