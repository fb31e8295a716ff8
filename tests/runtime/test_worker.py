#!/usr/bin/env python3
"""The loader worker (`dray __worker`), driven the way `dray run` drives it:
batches put into a real spool by `dray put`, loaded through the echo test
plugin, with its faults: a retryable failure reported as data, a crash
that kills only the worker, a hang the parent can kill, a damaged batch,
and a destination whose plugin is missing.

usage: test_worker.py DRAY PLUGIN_DIR
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from checks import check, finish

DRAY, PLUGINS = sys.argv[1], sys.argv[2]


def setup(tmp, options):
    cfg = os.path.join(tmp, "dray.yml")
    with open(cfg, "w") as f:
        f.write("spool: {path: ./spool}\n"
                "plugin_path: [%s]\n"
                "destinations:\n"
                "  - name: t\n    plugin: echo\n"
                "    options: {out_dir: ./out%s}\n"
                "  - name: gone\n    plugin: nosuchplugin\n"
                % (os.path.join(PLUGINS, "good"), options))
    os.makedirs(os.path.join(tmp, "out"), exist_ok=True)
    lines = [
        {"type": "SCHEMA", "stream": "s", "key_properties": ["id"],
         "schema": {"type": "object",
                    "properties": {"id": {"type": "integer"},
                                   "v": {"type": "string"}}}},
        {"type": "RECORD", "stream": "s", "record": {"id": 1, "v": "a"}},
        {"type": "RECORD", "stream": "s", "record": {"id": 2, "v": "boom"}},
        {"type": "RECORD", "stream": "s", "record": {"v": "no key"}},
    ]
    data = "".join(json.dumps(m) + "\n" for m in lines)
    p = subprocess.run([DRAY, "put", "-q", "-c", cfg, "--integration", "i"],
                       input=data, text=True, capture_output=True)
    check(p.returncode == 0, "put: " + p.stderr)
    batches = sorted(os.listdir(os.path.join(tmp, "spool", "batches")))
    return cfg, [os.path.join(tmp, "spool", "batches", b) for b in batches]


def start(cfg, dest="t"):
    return subprocess.Popen([DRAY, "__worker", "-c", cfg, "--destination",
                             dest], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def read_line(w, timeout):
    r, _, _ = select.select([w.stdout], [], [], timeout)
    return w.stdout.readline() if r else None


def run_case(options, attempt, expect):
    tmp = tempfile.mkdtemp(prefix="dray-worker-")
    try:
        cfg, batches = setup(tmp, options)
        w = start(cfg)
        check(read_line(w, 30) == "READY\n", "worker did not start")
        w.stdin.write("LOAD %d %s\n" % (attempt, batches[0]))
        w.stdin.flush()
        line = read_line(w, 5 if expect == "hang" else 30)
        if expect == "hang":
            check(line is None, "a hanging plugin answered: %r" % line)
            w.kill()  # what run.batch_timeout does
            check(w.wait(10) == -signal.SIGKILL, "hung worker not killed")
        elif expect == "crash":
            check(line == "", "a crashing worker answered: %r" % line)
            # SIGSEGV; under a sanitizer its report and an abort or exit 1.
            code = w.wait(10)
            check(code == -signal.SIGSEGV or code == -signal.SIGABRT or
                  (os.environ.get("DRAY_SANITIZED") and code != 0),
                  "worker did not die of its crash: %s" % code)
        else:
            reply = json.loads(line)
            check(reply["status"] == expect[0], "status %s, expected %s"
                  % (reply, expect[0]))
            if expect[0] == "OK":
                out = os.path.join(tmp, "out")
                files = os.listdir(out)
                check(len(files) == 1, "one output file: %s" % files)
                rows = open(os.path.join(out, files[0])).read().splitlines()
                # header + 2 rows; the gate's reject is counted, not loaded
                check(len(rows) == 3, "rows written: %d" % len(rows))
                check(reply["rows"] == {"s": 2}, "rows reported: %s" % reply)
                check(reply["rejected"] == 1, "rejects: %s" % reply)
            else:
                check(expect[1] in reply["message"], "message: %s" % reply)
            w.stdin.close()
            check(w.wait(10) == 0, "worker exit status %s" % w.returncode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


run_case("", 1, ("OK", None))
run_case(", retry_first: 2", 2, ("E_RETRYABLE", "not yet (attempt 2"))
run_case(", retry_first: 2", 3, ("OK", None))
run_case(", fail_mode: permanent", 1, ("E_PERMANENT", "refuses batch"))
run_case(", crash_when: boom", 1, "crash")
run_case(", hang_when: boom", 1, "hang")

# A damaged batch is reported as such, and the worker goes on.
tmp = tempfile.mkdtemp(prefix="dray-worker-")
try:
    cfg, batches = setup(tmp, "")
    with open(batches[0], "r+b") as f:
        f.seek(30)
        c = f.read(1)
        f.seek(30)
        f.write(bytes([c[0] ^ 0x20]))
    w = start(cfg)
    read_line(w, 30)
    w.stdin.write("LOAD 1 %s\n" % batches[0])
    w.stdin.flush()
    reply = json.loads(read_line(w, 30))
    check(reply["status"] == "DAMAGED" and "checksum" in reply["message"],
          "damaged batch: %s" % reply)
    w.stdin.close()
    check(w.wait(10) == 0, "worker exit after a damaged batch")
    # A destination whose plugin is missing says so at start.
    w = start(cfg, "gone")
    reply = json.loads(read_line(w, 30))
    check(reply["status"] == "E_CONFIG" and "nosuchplugin" in reply["message"],
          "missing plugin: %s" % reply)
    w.wait(10)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

finish()
