#!/usr/bin/env python3
"""dray-plugin-test end to end, against the in-tree S3 plugin writing to a
local folder (file://, no server).

    test_harness_e2e.py HARNESS S3_SO e2e    the engine's own behaviour
    test_harness_e2e.py HARNESS S3_SO all    every shipped scenario

"e2e" runs the scenarios in tests/harness/unit/e2e/ (one passes, one
expects the wrong values, one needs upsert, one expects an exit status
that does not come, one does not parse, one replays and injects a fault)
and asserts the exact lines, the diff, the summary, the exit status and
the JUnit file; then the usage and unusable-config exits, --list,
--scenario and --keep. "all" runs sdk/harness/scenarios/ and asserts that
nothing fails (every scenario passes or is skipped with a need).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
FAILED = []
PASSED = [0]


def check(cond, what, detail=""):
    if cond:
        PASSED[0] += 1
    else:
        FAILED.append(what)
        print("FAIL: %s%s" % (what, ("\n" + detail) if detail else ""))


def run(args, env_extra=None, timeout=1800):
    env = dict(os.environ)
    env.update(env_extra or {})
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def write_config(folder, url):
    path = os.path.join(folder, "cfg.yml")
    with open(path, "w") as f:
        f.write("destinations:\n"
                "  - name: warehouse\n    plugin: postgres\n"
                "    options: {dsn: unused}\n"
                "  - name: lake\n    plugin: s3\n"
                "    options: {url: \"%s\"}\n" % url)
    return path


def test_e2e(harness, so, tmp):
    lake = os.path.join(tmp, "lake")
    os.mkdir(lake)
    cfg = write_config(tmp, "file://" + lake)
    junit = os.path.join(tmp, "out.xml")
    env = {"DRAY_SCENARIOS": os.path.join(HERE, "e2e"), "TMPDIR": tmp}
    rc, out, err = run([harness, so, "-c", cfg, "--junit", junit], env)
    lines = out.splitlines()
    show = "stdout:\n" + out + "\nstderr:\n" + err
    check(rc == 1, "a failed scenario exits 1 (got %d)" % rc, show)
    want = [
        "ok 001-pass",
        "FAIL 002-wrong-value: table 'orders': 1 expected row missing, "
        "1 row not expected (1 read back); 1 more table differs",
        "  table orders:",
        "  + {\"id\":\"1\",\"name\":\"a\"}",
        "  - {\"id\":1,\"name\":\"b\"}",
        "  table orders__tags:",
        "  + {\"_sdc_source_key_id\":\"1\",\"_sdc_level_0_id\":\"1\","
        "\"value\":\"y\"}",
        "  - {\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":1,"
        "\"value\":\"z\"}",
        "skip 003-needs-upsert: needs upsert",
    ]
    check(lines[:len(want)] == want, "the first lines", show)
    rest = lines[len(want):]
    check(len(rest) > 0 and rest[0].startswith(
        "FAIL 004-bad-exit: dray run exited 0, expected 4: dray run: dut: "
        "1 batch loaded"), "an unexpected exit status", show)
    # The failing command's output follows, marked.
    check(len(rest) > 1 and rest[1].startswith("  | "),
          "the command's output after its failure", show)
    syntax = [x for x in rest if x.startswith("FAIL 005-syntax")]
    check(syntax == ["FAIL 005-syntax: scenario error: %s:4: unknown section "
                     "[bogus]" % os.path.join(HERE, "e2e", "005-syntax.scn")],
          "a scenario error names the file and line", show)
    check("ok 006-replay-fault" in lines, "replay and fault pass", show)
    check(lines[-1] == "2 passed, 3 failed, 1 skipped", "the summary", show)

    suite = ET.parse(junit).getroot().find("testsuite")
    check(suite.get("tests") == "6" and suite.get("failures") == "3" and
          suite.get("skipped") == "1", "JUnit counts")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    check(sorted(cases) == ["001-pass", "002-wrong-value", "003-needs-upsert",
                            "004-bad-exit", "005-syntax",
                            "006-replay-fault"], "JUnit testcases")
    fail = cases["002-wrong-value"].find("failure")
    check(fail is not None and "table orders__tags:" in fail.text and
          fail.get("message").startswith("table 'orders'"),
          "JUnit failure with the diff")
    skip = cases["003-needs-upsert"].find("skipped")
    check(skip is not None and skip.get("message") == "needs upsert",
          "JUnit skipped with the reason")
    check(len(cases["001-pass"]) == 0, "JUnit ok has no children")

    # Namespaces and temp folders are gone; --keep keeps them.
    left = [x for x in os.listdir(lake) if x.startswith("dpt_")]
    check(left == [], "namespaces dropped", str(left))
    check(not [x for x in os.listdir(tmp) if x.startswith("dpt-")],
          "temp folders removed", str(os.listdir(tmp)))
    rc, out, err = run([harness, so, "-c", cfg, "--scenario", "001*",
                        "--keep"], env)
    m = re.search(r"^  kept (\S+) \(namespace (dpt_001_[a-z0-9]{6})\)$", out,
                  re.M)
    check(rc == 0 and m is not None, "--keep names what it kept", out + err)
    if m:
        check(os.path.isfile(os.path.join(m.group(1), "dray.yml")),
              "the kept folder holds the generated config")
        check(os.path.isdir(os.path.join(lake, m.group(2))),
              "the kept namespace holds the tables")
        shutil.rmtree(m.group(1), ignore_errors=True)
    check(out.endswith("1 passed, 0 failed, 0 skipped\n"),
          "--scenario selects one", out)

    rc, out, err = run([harness, so, "-c", cfg, "--scenario", "zzz*"], env)
    check(rc == 2 and "matches; see --list" in err,
          "a glob that matches nothing is a usage error", err)

    rc, out, err = run([harness, so, "--list"], env)
    check(rc == 0 and re.search(
        r"^003-needs-upsert +\[needs upsert\] Needs upsert, which the S3 "
        r"plugin lacks\. \(skip: needs upsert\)$", out, re.M),
        "--list with the needs and skips", out + err)


def test_exits(harness, so, tmp):
    rc, out, err = run([harness])
    check(rc == 2 and "name the plugin file" in err, "usage error", err)
    rc, out, err = run([harness, so, "--bogus"])
    check(rc == 2 and "unknown option '--bogus'" in err, "unknown option")
    cfg = os.path.join(tmp, "nos3.yml")
    with open(cfg, "w") as f:
        f.write("destinations:\n  - {name: w, plugin: postgres, "
                "options: {dsn: x}}\n")
    rc, out, err = run([harness, so, "-c", cfg])
    check(rc == 3 and "has no destination with plugin 's3'" in err,
          "no destination of the plugin", err)
    bad = write_config(tmp, "ftp://nowhere")
    rc, out, err = run([harness, so, "-c", bad])
    check(rc == 3 and "destination check of plugin 's3' failed" in err,
          "a destination that does not work", err)
    notplugin = os.path.join(tmp, "plugins", "fake.so")
    os.makedirs(os.path.dirname(notplugin))
    with open(notplugin, "w") as f:
        f.write("not a shared object\n")
    rc, out, err = run([harness, notplugin])
    check(rc == 3 and "dray refuses" in err and "not a shared object" in err,
          "a file that is no plugin", err)
    rc, out, err = run([harness, so], {"DRAY": os.path.join(tmp, "nodray")})
    check(rc == 3 and "set DRAY" in err, "no dray", err)


def test_all(harness, so, tmp):
    lake = os.path.join(tmp, "lake")
    os.mkdir(lake)
    cfg = write_config(tmp, "file://" + lake)
    rc, out, err = run([harness, so, "-c", cfg])
    print(out, end="")
    summary = out.splitlines()[-1] if out else ""
    check(rc == 0 and re.match(r"^\d+ passed, 0 failed, \d+ skipped$",
                               summary), "every scenario passes or skips",
          err)
    skips = [x for x in out.splitlines() if x.startswith("skip ")]
    check(all(re.match(r"^skip \S+: needs( [a-z_]+)+$", x) for x in skips),
          "skips name a need", "\n".join(skips))


def main():
    harness, so, what = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="dray-harness-e2e-")
    try:
        if what == "e2e":
            test_e2e(harness, so, tmp)
            test_exits(harness, so, tmp)
        else:
            test_all(harness, so, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (PASSED[0], len(FAILED)))
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
