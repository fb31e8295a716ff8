#!/usr/bin/env python3
"""dray-plugin-test's resource scenarios against the test plugin echo,
which can misbehave on purpose (tests/plugins/echo.c, "resource faults").

    test_harness_resources.py HARNESS ECHO_SO

The shipped scenarios 089 (peak memory of a large batch) and 090 (open
files across 100 batches) pass for echo as it is; 090 fails for echo with
leak_fd_per_batch, by exactly one fd per batch; 089 fails for echo with
hold_mib: 100 against the default bound of 64 MiB and passes when
--max-rss or the scenario's own [expect-max-rss N] allows it, --max-rss
winning over the scenario. Under AddressSanitizer (DRAY_SANITIZED=1) the
worker's peak is not judged: the harness must say so instead.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
FAILED = []
PASSED = [0]
SANITIZED = bool(os.environ.get("DRAY_SANITIZED"))
TIMEOUT = 1800 * (3 if SANITIZED else 1)


def check(cond, what, detail=""):
    if cond:
        PASSED[0] += 1
    else:
        FAILED.append(what)
        print("FAIL: %s%s" % (what, ("\n" + detail) if detail else ""))


def config(tmp, name, **options):
    out = os.path.join(tmp, "out-" + name)
    os.makedirs(out, exist_ok=True)
    opts = ", ".join(["out_dir: \"%s\"" % out] +
                     ["%s: %s" % kv for kv in options.items()])
    path = os.path.join(tmp, name + ".yml")
    with open(path, "w") as f:
        f.write("destinations:\n  - name: e\n    plugin: echo\n"
                "    options: {%s}\n" % opts)
    return path


def run(harness, so, cfg, args, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    p = subprocess.run([harness, so, "-c", cfg] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def line_of(out, scenario):
    for line in out.splitlines():
        if re.match(r"^(ok|FAIL|skip) %s(:|$)" % re.escape(scenario), line):
            return line
    return ""


RSS = "089-resources-peak-rss-large-batch"
FDS = "090-resources-no-fd-leak-100-batches"
ASAN_NOTE = ("dray-plugin-test: dray's worker runs under AddressSanitizer: "
             "its peak memory is not judged ([expect-max-rss])")


def test_good(harness, so, tmp):
    cfg = config(tmp, "good")
    rc, out, err = run(harness, so, cfg, ["-v", "--scenario", "089*",
                                          "--scenario", "090*"])
    show = out + err
    check(rc == 0 and line_of(out, RSS) == "ok " + RSS and
          line_of(out, FDS) == "ok " + FDS,
          "echo passes both resource scenarios", show)
    m = re.search(r"^  worker \d+: 100 loads, open files (\d+) -> (\d+), "
                  r"peak \d+ MiB$", out, re.M)
    check(m is not None and m.group(1) == m.group(2),
          "-v shows one worker with 100 loads and steady open files", show)
    check(re.search(r"^  worker \d+: 1 load, ", out, re.M) is not None,
          "-v shows the large batch's worker", show)


def test_fd_leak(harness, so, tmp):
    cfg = config(tmp, "leak", leak_fd_per_batch="true")
    rc, out, err = run(harness, so, cfg, ["--scenario", "090*"])
    line = line_of(out, FDS)
    show = out + err
    check(rc == 1, "a leak fails the run (exit %d)" % rc, show)
    m = re.match(r"^FAIL %s: the worker held (\d+) open files after its "
                 r"first batch and (\d+) after its last \(load 100\): a file "
                 r"or connection leaks$" % FDS, line)
    check(m is not None, "the fd scenario fails, saying what leaks", show)
    if m:
        check(int(m.group(2)) - int(m.group(1)) == 99,
              "one fd more per batch after the first", line)
    check(re.search(r"^  worker \d+, after load 100: %s open files" %
                    (m.group(2) if m else "X"), out, re.M) is not None,
          "the diff shows the last load", show)


def test_rss(harness, so, tmp):
    cfg = config(tmp, "hold", hold_mib="100")
    rc, out, err = run(harness, so, cfg, ["--scenario", "089*"])
    line = line_of(out, RSS)
    show = out + err
    if SANITIZED:
        check(rc == 0 and line == "ok " + RSS and ASAN_NOTE in err,
              "under AddressSanitizer the peak is not judged, and the "
              "harness says so", show)
        return
    m = re.match(r"^FAIL %s: the worker's peak memory was (\d+) MiB, over "
                 r"the bound of 64 MiB: stream the batch instead of holding "
                 r"it, or raise the bound with --max-rss$" % RSS, line)
    check(rc == 1 and m is not None,
          "a plugin holding 100 MiB fails the default bound", show)
    check(m is not None and int(m.group(1)) >= 100,
          "the peak counts the held memory", line)
    check(ASAN_NOTE not in err, "no sanitizer note without one", err)

    rc, out, err = run(harness, so, cfg, ["--scenario", "089*",
                                          "--max-rss", "400"])
    check(rc == 0 and line_of(out, RSS) == "ok " + RSS,
          "--max-rss raises the bound", out + err)

    # A scenario's own bound, and --max-rss over it.
    scn = os.path.join(tmp, "scn")
    os.makedirs(scn, exist_ok=True)
    with open(os.path.join(scn, "001-own-bound.scn"), "w") as f:
        f.write("# Its own bound.\n[input]\n"
                "{\"type\":\"SCHEMA\",\"stream\":\"s\",\"key_properties\":"
                "[\"id\"],\"schema\":{\"type\":\"object\",\"properties\":"
                "{\"id\":{\"type\":\"integer\"}}}}\n"
                "{\"type\":\"RECORD\",\"stream\":\"s\",\"record\":{\"id\":1}}\n"
                "[expect-max-rss 400]\n")
    env = {"DRAY_SCENARIOS": scn}
    rc, out, err = run(harness, so, cfg, [], env)
    check(rc == 0 and "ok 001-own-bound" in out.splitlines(),
          "a scenario's [expect-max-rss 400] allows 100 MiB", out + err)
    rc, out, err = run(harness, so, cfg, ["--max-rss", "64"], env)
    check(rc == 1 and "over the bound of 64 MiB" in
          line_of(out, "001-own-bound"),
          "--max-rss replaces the scenario's bound", out + err)

    rc, out, err = run(harness, so, cfg, ["--max-rss", "0"])
    check(rc == 2 and "--max-rss needs a bound in MiB from 1, not '0'" in err,
          "--max-rss 0 is a usage error", err)


def main():
    harness, so = sys.argv[1:3]
    tmp = tempfile.mkdtemp(prefix="dray-harness-res-")
    try:
        test_good(harness, so, tmp)
        test_fd_leak(harness, so, tmp)
        test_rss(harness, so, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (PASSED[0], len(FAILED)))
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
