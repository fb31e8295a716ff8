#!/usr/bin/env python3
"""Runs one data-driven CLI test case (tests/cases/<label>/NNN-name.case).

A case file is plain text in sections, each opened by a line "[name]":

  # first comment line: what the case checks
  [env]             NAME=value lines added to a clean environment
  [file PATH]       a file written into the case's scratch folder
  [run]             the command line (shell syntax); "dray" is the binary
  [exit]            the expected exit status (default 0)
  [stdout] [stderr] the exact expected output
  [stdout-contains] [stderr-contains]  lines that must each appear
  [stdout-lacks] [stderr-lacks]  lines that must not appear
  [stdout-json]     JSON that the output must match; objects in it may
                    leave keys out, arrays must match element by element,
                    except that a last element "..." allows more

In every section @TMP@ is the scratch folder (also the working folder),
@PLUGINS@ the test plugin folder, @BUILTIN@ dray's built-in plugin folder,
@SRC@ the source tree. Prints "1 passed, 0 failed" or the differences.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


KNOWN_EXPECTATIONS = {
    "exit", "stdout", "stderr", "stdout-contains", "stderr-contains",
    "stdout-lacks", "stderr-lacks", "stdout-json", "stderr-json"}


def parse(path):
    sections, name, lines, desc = [], None, [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            m = re.fullmatch(r"\[([a-z-]+)(?: (.+))?\]", line)
            if m:
                if name:
                    sections.append((name, arg, "\n".join(lines)))
                name, arg, lines = m.group(1), m.group(2), []
            elif name is None:
                if line.startswith("#") and not desc:
                    desc = line.lstrip("# ")
            else:
                lines.append(line)
    if name:
        sections.append((name, arg, "\n".join(lines)))
    return desc, sections


def subset_match(expected, actual, where="$"):
    """Returns a list of mismatch descriptions."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {json.dumps(actual)}"]
        out = []
        for k, v in expected.items():
            if k not in actual:
                out.append(f"{where}.{k}: missing")
            else:
                out += subset_match(v, actual[k], f"{where}.{k}")
        return out
    if isinstance(expected, list):
        if expected and expected[-1] == "...":
            expected = expected[:-1]
            if isinstance(actual, list) and len(actual) >= len(expected):
                actual = actual[:len(expected)]
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got "
                    f"{json.dumps(actual)}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += subset_match(e, a, f"{where}[{i}]")
        return out
    if expected != actual:
        return [f"{where}: expected {json.dumps(expected)}, got "
                f"{json.dumps(actual)}"]
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dray", required=True)
    ap.add_argument("--plugins", required=True)
    ap.add_argument("--builtin", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("case")
    a = ap.parse_args()

    desc, sections = parse(a.case)
    tmp = tempfile.mkdtemp(prefix="dray-case-")
    subs = {"@TMP@": tmp, "@PLUGINS@": a.plugins,
            "@BUILTIN@": os.path.realpath(a.builtin), "@SRC@": a.src}

    def sub(text):
        for k, v in subs.items():
            text = text.replace(k, v)
        return text

    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAY_")}
    env["PATH"] = os.path.dirname(os.path.abspath(a.dray)) + ":" + \
        env.get("PATH", "/usr/bin:/bin")
    expect = {"exit": "0"}
    command = None
    for name, arg, body in sections:
        body = sub(body)
        if name == "env":
            for line in body.splitlines():
                if line.strip():
                    k, _, v = line.partition("=")
                    env[k] = v
        elif name == "file":
            path = os.path.join(tmp, sub(arg))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(body + ("\n" if body else ""))
        elif name == "run":
            command = body.strip()
        elif name in KNOWN_EXPECTATIONS:
            expect[name] = body
        else:
            print(f"FAIL {os.path.basename(a.case)}: unknown section [{name}]")
            print("0 passed, 1 failed")
            return 1

    failures = []
    if command is None:
        failures.append("the case has no [run] section")
    else:
        p = subprocess.run(["bash", "-c", command], cwd=tmp, env=env,
                           capture_output=True, text=True, timeout=120)
        outs = {"stdout": p.stdout, "stderr": p.stderr}
        if str(p.returncode) != expect["exit"].strip():
            failures.append(f"exit status {p.returncode}, expected "
                            f"{expect['exit'].strip()}")
        for stream in ("stdout", "stderr"):
            got = outs[stream]
            if stream in expect:
                want = expect[stream]
                if got.rstrip("\n") != want.rstrip("\n"):
                    failures.append(f"{stream} differs:\n--- expected\n{want}"
                                    f"\n--- got\n{got}")
            if stream + "-contains" in expect:
                for line in expect[stream + "-contains"].splitlines():
                    if line and line not in got:
                        failures.append(f"{stream} lacks: {line}\n--- got\n"
                                        f"{got}")
            if stream + "-lacks" in expect:
                for line in expect[stream + "-lacks"].splitlines():
                    if line and line in got:
                        failures.append(f"{stream} has: {line}\n--- got\n"
                                        f"{got}")
            if stream + "-json" in expect:
                try:
                    actual = json.loads(got)
                except ValueError as e:
                    failures.append(f"{stream} is not JSON ({e}):\n{got}")
                else:
                    failures += subset_match(json.loads(expect[stream +
                                                               "-json"]),
                                             actual)
        if failures:
            failures.append(f"(stderr was:\n{p.stderr})")

    name = os.path.basename(a.case)
    if failures:
        print(f"FAIL {name}: {desc}")
        for f in failures:
            print(f)
        print("0 passed, 1 failed")
        shutil.rmtree(tmp, ignore_errors=True)
        return 1
    print(f"ok {name}: {desc}")
    print("1 passed, 0 failed")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
