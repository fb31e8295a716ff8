#!/usr/bin/env python3
"""Proves the conformance harness (docs/HARNESS.md, "Proving the harness").

dray-plugin-test runs every scenario against the reference plugin
(tests/harness/plugins/, built as refplug.so), which must pass or skip
each one; then each broken variant of it against the scenarios that
should catch its fault, which must fail there with a message that says
what is wrong, and against a few that do not touch the fault, which must
still pass (so the harness points at the fault instead of failing
everything).

    test_broken.py DRAY_PLUGIN_TEST PLUGIN_DIR

Exit 77 (skipped) when dray-plugin-test or the plugins are not built.
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# Seconds for one dray-plugin-test run; sanitized builds run slower.
TIMEOUT = 1800 * (3 if os.environ.get("DRAY_SANITIZED") else 1)

# Per broken plugin: the scenarios that must fail, each with a pattern its
# FAIL line and diff must match, and scenarios that must pass.
BROKEN = {
    "broken_drop_row": {
        "fail": {
            "010-upsert-replaces-row":
                r"table 'people': 1 expected row missing[\s\S]*"
                r'^\s+- \{"id":1,"name":"Anna"\}',
            "019-append-every-version":
                r"table 'people': 2 expected rows missing[\s\S]*"
                r'^\s+- \{"id":1,"name":"a"\}',
        },
        "ok": [],
    },
    "broken_dup_replay": {
        "fail": {
            "075-replay-append":
                r"table 'people': 6 rows not expected[\s\S]*"
                r'^\s+\+ \{"id":1,"name":"p1"\}',
            "081-kill-at-10-append":
                r"table 'people': \d+ rows? not expected[\s\S]*^\s+\+ \{",
        },
        # Upserting a batch again changes nothing: no need of a ledger.
        "ok": ["010-upsert-replaces-row", "076-replay-upsert-nested"],
    },
    "broken_no_sequence": {
        "fail": {
            "012-upsert-stale-batch":
                r"table 'people': 1 expected row missing, 1 row not "
                r'expected[\s\S]*^\s+- \{"id":1,"name":"newer"[\s\S]*'
                r'^\s+\+ \{"id":1,"name":"stale"',
            "028-nested-stale-child-rows-kept":
                r"expected rows? missing[\s\S]*^\s+- \{.*\"n1\"",
        },
        # In a batch the later record has the higher sequence anyway.
        "ok": ["011-upsert-dedup-in-batch", "027-nested-child-rows-replaced"],
    },
    "broken_lose_nested": {
        "fail": {
            "022-nested-two-level-arrays":
                r"table 'orders__line_items': 3 expected rows missing "
                r"\(0 read back\)[\s\S]*"
                r"^\s+table orders__line_items__tax_lines:",
            "023-nested-scalar-arrays":
                r"table 'people__tags': 3 expected rows missing[\s\S]*"
                r'^\s+- \{"_sdc_source_key_id":1,"_sdc_level_0_id":0,'
                r'"value":"a"\}',
            "027-nested-child-rows-replaced":
                r"table 'people__tags': \d+ expected rows? missing",
        },
        "ok": ["010-upsert-replaces-row", "020-nested-object-columns"],
    },
    "broken_segfault": {
        "fail": {
            # The second batch of a namespace kills the worker every time:
            # quarantined as poison, the run says so and exits 4.
            "010-upsert-replaces-row":
                r"dray run exited 4, expected 0[\s\S]*quarantined[\s\S]*"
                r"(signal 11|Segmentation fault|SEGV|exited with status)",
            "012-upsert-stale-batch": r"dray run exited 4, expected 0",
        },
        # One batch per namespace never reaches the crash.
        "ok": ["011-upsert-dedup-in-batch", "020-nested-object-columns"],
    },
    "broken_early_ok": {
        "fail": {
            "078-kill-at-1":
                r"table 'people': 4 expected rows missing[\s\S]*"
                r'^\s+- \{"id":1,"name":"p1"\}',
            "081-kill-at-10-append": r"table 'people': \d+ expected rows? "
                                     r"missing",
        },
        # Without a kill the instance ends normally and writes its batches.
        "ok": ["010-upsert-replaces-row", "075-replay-append"],
    },
}

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
    return ok


def run_harness(harness, so, globs, junit=None, extra=()):
    """Runs dray-plugin-test; returns (exit code, output, results) where
    results maps a scenario to (status, its line and indented lines)."""
    cmd = [harness, so] + list(extra)
    for g in globs:
        cmd += ["--scenario", g]
    if junit:
        cmd += ["--junit", junit]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=TIMEOUT)
    out = p.stdout.decode("utf-8", "replace")
    results, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^(ok|FAIL|skip) (\d{3}-[A-Za-z0-9_-]+)(:|$)", line)
        if m:
            cur = m.group(2)
            results[cur] = [m.group(1), line]
        elif cur and (line.startswith(" ") or line.startswith("\t")):
            results[cur][1] += "\n" + line
        else:
            cur = None
    return p.returncode, out, results


def scenario_names(harness, so):
    p = subprocess.run([harness, so, "--list"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TIMEOUT)
    names = re.findall(r"^(\d{3}-[A-Za-z0-9_-]+)\s", p.stdout.decode(),
                       re.M)
    return p.returncode, names


def test_reference(harness, plugdir, tmp):
    so = os.path.join(plugdir, "refplug.so")
    rc, names = scenario_names(harness, so)
    check(rc == 0 and len(names) >= 40,
          "dray-plugin-test --list names the scenarios (exit %d, %d names)"
          % (rc, len(names)))
    junit = os.path.join(tmp, "refplug.xml")
    # The reference keeps whole namespaces in memory by design: a plugin
    # that needs more than the default 64 MiB raises the bound, as a vendor
    # would (089-resources-peak-rss-large-batch peaks near 190 MiB).
    rc, out, res = run_harness(harness, so, [], junit, ["--max-rss", "512"])
    bad = [n for n, (st, _) in res.items() if st == "FAIL"]
    if not check(rc == 0 and not bad,
                 "the reference plugin passes or skips every scenario "
                 "(exit %d, failed: %s)" % (rc, ", ".join(bad) or "none")):
        print(out)
    missing = [n for n in names if n not in res]
    check(not missing, "every scenario reports a result (missing: %s)"
          % ", ".join(missing))
    skipped = {n: line for n, (st, line) in res.items() if st == "skip"}
    for n, line in skipped.items():
        # Only the dialect-specific scenarios may skip: the reference is a
        # rename-split dialect with every capability.
        check("split_keep" in line,
              "reference skips %s only for a need it lacks: %s" % (n, line))
    check(re.search(r"^%d passed, 0 failed, %d skipped$"
                    % (len(res) - len(skipped), len(skipped)), out, re.M),
          "the summary line counts the results")
    try:
        suite = ET.parse(junit).getroot()
        cases = suite.findall(".//testcase")
        check(len(cases) == len(names) and
              not suite.findall(".//failure"),
              "the JUnit file has one testcase per scenario, no failure "
              "(%d testcases)" % len(cases))
    except (OSError, ET.ParseError) as e:
        check(False, "the JUnit file is readable XML: %s" % e)


def test_broken(harness, plugdir, name, spec):
    so = os.path.join(plugdir, name + ".so")
    globs = list(spec["fail"]) + spec["ok"]
    rc, out, res = run_harness(harness, so, globs)
    check(rc == 1, "%s: dray-plugin-test exits 1 (got %d)" % (name, rc))
    for scn, pattern in spec["fail"].items():
        st, text = res.get(scn, [None, ""])
        if not check(st == "FAIL", "%s: %s fails (got %s)" % (name, scn, st)):
            print(out)
            continue
        check(re.search(pattern, text, re.M),
              "%s: %s says what is wrong (/%s/):\n%s"
              % (name, scn, pattern, text))
    for scn in spec["ok"]:
        st, text = res.get(scn, [None, ""])
        check(st == "ok", "%s: %s still passes (got %s)\n%s"
              % (name, scn, st, text))
    check(re.search(r"^%d passed, %d failed, 0 skipped$"
                    % (len(spec["ok"]), len(spec["fail"])), out, re.M),
          "%s: the summary counts %d failures" % (name, len(spec["fail"])))


def main():
    if len(sys.argv) != 3:
        print("usage: test_broken.py DRAY_PLUGIN_TEST PLUGIN_DIR")
        return 2
    harness, plugdir = sys.argv[1], sys.argv[2]
    wanted = ["refplug.so"] + [n + ".so" for n in BROKEN]
    if not os.access(harness, os.X_OK) or not all(
            os.path.exists(os.path.join(plugdir, f)) for f in wanted):
        print("skipped: build dray-plugin-test and the harness plugins "
              "first (ctest fixtures fixture/sdk_install and "
              "fixture/harness_plugins)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        test_reference(harness, plugdir, tmp)
        for name, spec in BROKEN.items():
            test_broken(harness, plugdir, name, spec)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
