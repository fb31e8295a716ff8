#!/usr/bin/env python3
"""The host pieces of the conformance harness (docs/HARNESS.md): a
destination's `namespace`, `dray __plugin-op` and the worker's fault hooks
(DRAY_FAULT_KILL_AT, DRAY_FAULT_FAIL_AT), through the echo test plugin
(namespaces are subfolders of its out_dir, readback gives the records'
data in _sdc_sequence order) and the `twin` plugin, which has no
capabilities at all.

What is asserted is what a user sees: exit codes, stdout and stderr of
the commands, the files the plugin wrote and its journal of loads.

usage: test_plugin_op.py DRAY PLUGIN_DIR   (ONLY=word runs the tests named so)
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from runtime_util import (MR, PLUGINS, Spool, check, records, run_tests,
                          yaml)

RUN = {"concurrency": 1, "poll_interval": "100ms", "grace": "5s",
       "crash_limit": 3,
       "retry": {"attempts": 3, "initial": "50ms", "max": "100ms"}}


def write_config(s, dests, max_records=MR):
    """dests: [(name, plugin, namespace or None, options)]."""
    lines = ["spool: {path: ./spool}",
             "plugin_path: [%s, %s]" % (
                 json.dumps(os.path.join(PLUGINS, "good")),
                 json.dumps(os.path.join(PLUGINS, "dup1"))),
             "batch: {max_records: %d}" % max_records,
             "run: %s" % yaml(RUN), "destinations:"]
    for name, plugin, ns, opts in dests:
        lines.append("  - {name: %s, plugin: %s%s%s}" % (
            name, plugin, ", namespace: %s" % ns if ns else "",
            ", options: %s" % yaml(opts) if opts else ""))
    with open(s.cfg, "w") as f:
        f.write("\n".join(lines) + "\n")


def op(s, dest, *args):
    return s.dray("__plugin-op", "-c", s.cfg, "--destination", dest, *args)


def jsonl_files(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder) if f.endswith(".jsonl"))


def test_namespace_and_ops():
    """A batch of a destination with `namespace: x` lands in namespace x;
    list-tables, readback, check, namespace-create and -drop answer with
    the plugin's data or its error."""
    s = Spool("plugin-op")
    try:
        out = os.path.join(s.tmp, "out")
        os.makedirs(out)
        write_config(s, [("dut", "echo", "x", {"out_dir": "./out"})])

        p = op(s, "dut", "namespace-create", "x")
        check(p.returncode == 0 and p.stdout == "" and p.stderr == "",
              "namespace-create: exit %d, %r %r" % (p.returncode, p.stdout,
                                                    p.stderr))
        check(os.path.isdir(os.path.join(out, "x")),
              "namespace-create made the folder")

        orders, users = records("orders", 6), records("users", 3)
        s.put("shop", {"orders": orders, "users": users})
        p = s.run()
        check(p.returncode == 0, "run: exit %d: %s" % (p.returncode,
                                                       p.stderr))
        ns_files = jsonl_files(os.path.join(out, "x"))
        check(len(ns_files) == 3, "2 + 1 batches in namespace x: %s"
              % ns_files)
        check(jsonl_files(out) == [], "nothing in the configured place: %s"
              % jsonl_files(out))

        p = op(s, "dut", "list-tables", "x")
        check(p.returncode == 0 and p.stdout == "orders\nusers\n",
              "list-tables x: exit %d, %r" % (p.returncode, p.stdout))
        p = op(s, "dut", "readback", "x", "orders")
        got = [json.loads(ln) for ln in p.stdout.splitlines()]
        check(p.returncode == 0 and got == orders,
              "readback x orders: exit %d, %s" % (p.returncode, got))
        p = op(s, "dut", "readback", "x", "users")
        got = [json.loads(ln) for ln in p.stdout.splitlines()]
        check(p.returncode == 0 and got == users,
              "readback x users: exit %d, %s" % (p.returncode, got))

        # The plugin's error, one line, exit 1.
        p = op(s, "dut", "readback", "x", "items")
        check(p.returncode == 1 and p.stdout == "" and p.stderr ==
              "dray __plugin-op: readback of items failed: no table "
              "'items' in namespace 'x'\n",
              "readback of a missing table: exit %d, %r"
              % (p.returncode, p.stderr))
        # '-' is the configured namespace, where nothing was loaded.
        p = op(s, "dut", "readback", "-", "orders")
        check(p.returncode == 1 and "no table 'orders' in namespace "
              "'(configured)'" in p.stderr,
              "readback - orders: exit %d, %r" % (p.returncode, p.stderr))
        p = op(s, "dut", "list-tables", "-")
        check(p.returncode == 0 and p.stdout == "",
              "list-tables -: exit %d, %r %r" % (p.returncode, p.stdout,
                                                 p.stderr))

        p = op(s, "dut", "check")
        check(p.returncode == 0 and p.stdout == "",
              "check: exit %d, %r" % (p.returncode, p.stderr))

        p = op(s, "dut", "namespace-drop", "x")
        check(p.returncode == 0, "namespace-drop: exit %d, %r"
              % (p.returncode, p.stderr))
        check(not os.path.exists(os.path.join(out, "x")),
              "namespace-drop removed the folder")
        p = op(s, "dut", "list-tables", "x")
        check(p.returncode == 1 and p.stderr.startswith(
            "dray __plugin-op: list-tables of x failed: no namespace 'x'"),
            "list-tables of a dropped namespace: exit %d, %r"
            % (p.returncode, p.stderr))
    finally:
        s.close()


def test_errors_and_capabilities():
    """Exit 5 for an operation the plugin lacks, 1 with its message when
    it fails, 2 for usage errors, 3 for config errors; and a namespace for
    a plugin without the capability stops the destination in dray run."""
    s = Spool("plugin-op-err")
    try:
        write_config(s, [("dut", "echo", None, {"out_dir": "./missing"}),
                         ("plain", "twin", None, None)])
        for args, cap in ((("readback", "x", "t"), "readback"),
                          (("list-tables", "x"), "readback"),
                          (("namespace-create", "x"), "namespaces"),
                          (("namespace-drop", "x"), "namespaces"),
                          (("check",), "check")):
            p = op(s, "plain", *args)
            check(p.returncode == 5 and p.stderr ==
                  "dray __plugin-op: plugin 'twin' does not support %s "
                  "(capability '%s')\n" % (args[0], cap),
                  "twin %s: exit %d, %r" % (args[0], p.returncode,
                                            p.stderr))

        p = op(s, "dut", "check")
        check(p.returncode == 1 and p.stderr ==
              "dray __plugin-op: check failed: out_dir '%s' is not a "
              "writable folder; create it, or point out_dir elsewhere\n"
              % os.path.join(os.path.realpath(s.tmp), "missing"),
              "check of a missing out_dir: exit %d, %r"
              % (p.returncode, p.stderr))

        for args in (("readback", "X-y", "t"), ("namespace-create", "-"),
                     ("namespace-drop", "a" * 64), ("readback", "x"),
                     ("frobnicate",), ("check", "extra")):
            p = op(s, "dut", *args)
            check(p.returncode == 2 and "see 'dray __plugin-op --help'"
                  in p.stderr, "usage %s: exit %d, %r"
                  % (args, p.returncode, p.stderr))
        p = op(s, "nowhere", "check")
        check(p.returncode == 3 and p.stderr ==
              "dray __plugin-op: no destination 'nowhere' in %s\n" % s.cfg,
              "unknown destination: exit %d, %r" % (p.returncode, p.stderr))

        p = s.dray("help")
        check("__plugin-op" not in p.stdout, "hidden from the help")

        write_config(s, [("plain", "twin", "x", None)])
        s.put("shop", {"orders": records("orders", 2)})
        p = s.run()
        check(p.returncode == 1 and "plugin 'twin' does not support "
              "namespaces (capability 'namespaces')" in p.stderr,
              "run with a namespace twin cannot have: exit %d, %s"
              % (p.returncode, p.stderr))
        check(len(s.batches()) == 1, "its batch stays pending")
    finally:
        s.close()


class fault_env:
    """Sets a variable for the dray commands started inside."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __enter__(self):
        os.environ[self.name] = self.value

    def __exit__(self, *exc):
        del os.environ[self.name]


def loads_by_batch(j):
    """{batch: [(what, attempt)]} from a journal."""
    out = {}
    for what, bid, attempt, pid in j:
        out.setdefault(bid, []).append((what, attempt))
    return out


def test_kill_at():
    """DRAY_FAULT_KILL_AT=3 kills each batch's first attempt at the
    plugin's third host call (echo: before its file is opened); the run
    reports the deaths and the retries load every batch exactly once.
    One stream and one worker at a time: the worker that retried one batch
    loads the next, so the count starts over per batch."""
    s = Spool("fault-kill")
    try:
        s.config({"a": {}}, max_records=MR, run={"concurrency": 1})
        s.put("shop", {"orders": records("orders", 10)})
        n = len(s.batches())
        with fault_env("DRAY_FAULT_KILL_AT", "3"):
            p = s.run()
        check(p.returncode == 0, "run: exit %d: %s" % (p.returncode,
                                                       p.stderr))
        check(p.stderr.count("was killed by signal 9") == n,
              "%d worker deaths reported: %s" % (n, p.stderr))
        check("%d worker deaths" % n in p.stderr, "summary: %s" % p.stderr)
        s.check_exactly_once("a")
        by = loads_by_batch(s.journal("a"))
        check(len(by) == n and all(v == [("start", 1), ("start", 2),
                                         ("commit", 2)]
                                   for v in by.values()),
              "each batch: attempt 1 killed mid-load, attempt 2 "
              "committed once: %s" % by)
        check(all(h["attempt"] == 2 for h, _ in s.loaded("a").values()),
              "every file is from attempt 2")

        # A count past the plugin's last call never fires.
        s.put("shop", {"orders": records("orders", 3, start=10)})
        with fault_env("DRAY_FAULT_KILL_AT", "100000"):
            p = s.run()
        check(p.returncode == 0 and "killed" not in p.stderr,
              "no kill past the last call: %s" % p.stderr)
        s.check_exactly_once("a")
    finally:
        s.close()


def test_fail_at():
    """DRAY_FAULT_FAIL_AT=N makes the Nth batch_next of a first attempt
    fail retryably with the injected message; echo passes it on (no file)
    and the retry loads the batch in full."""
    for at in ("1", "3"):
        s = Spool("fault-fail")
        try:
            s.config({"a": {}}, max_records=MR, run={"concurrency": 1})
            s.put("shop", {"orders": records("orders", 10),
                           "users": records("users", 4)})
            n = len(s.batches())
            with fault_env("DRAY_FAULT_FAIL_AT", at):
                p = s.run()
            check(p.returncode == 0, "at %s: run: exit %d: %s"
                  % (at, p.returncode, p.stderr))
            check(p.stderr.count("E_RETRYABLE: injected fault "
                                 "(DRAY_FAULT_FAIL_AT)") == n,
                  "at %s: %d injected failures logged: %s"
                  % (at, n, p.stderr))
            s.check_exactly_once("a")
            by = loads_by_batch(s.journal("a"))
            check(len(by) == n and all(
                v == [("start", 1), ("fail", 1), ("start", 2),
                      ("commit", 2)] for v in by.values()),
                "at %s: each batch failed once, then committed: %s"
                % (at, by))
        finally:
            s.close()


if __name__ == "__main__":
    run_tests([test_namespace_and_ops, test_errors_and_capabilities,
               test_kill_at, test_fail_at])
