#!/usr/bin/env python3
"""Reads what the SDK's CSV and NDJSON encoders wrote with readers that
share no code with them: Python's csv and json modules, and gzip -dc.

usage: readers.py ENCODE_FILES WORKDIR

Rows of tricky values go to encode_files (a C program around the
encoders) as a spec, for every delimiter, quote-all and line end, with and
without gzip; each output is read back and compared value by value.
"""
import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal

NAMES = ["id", "na,me", 'q"uote', " sp", "t\tab|pipe", "\u00e9"]

# (kind, text); kind as encode_files takes it, None for NULL.
VALUES = [
    ("S", "plain"),
    ("S", ""),
    (None, None),
    ("S", "a,b"),
    ("S", "a|b"),
    ("S", "a\tb"),
    ("S", 'say "hi"'),
    ("S", '"'),
    ("S", '""'),
    ("S", "line1\nline2"),
    ("S", "cr\ronly"),
    ("S", "crlf\r\n"),
    ("S", "\n"),
    ("S", " lead"),
    ("S", "trail "),
    ("S", " "),
    ("S", "\\."),
    ("S", "\\N"),
    ("S", "\u00e9\u2713\U0001F600 \u2028"),
    ("S", 'mixed, "all" | of\tit\r\n\u00fc'),
    ("S", "ctl \x01\x1f\x7f"),
    ("S", ("x,\"\n|\t" * 20000)),
    ("I", "42"),
    ("I", "-9223372036854775808"),
    ("D", "1.5e3"),
    ("D", "-0.0"),
    ("D", "123456789012345678901234567890.123456789"),
    ("F", "1e-5"),
    ("B", "true"),
    ("B", "false"),
    ("T", "2024-01-02T03:04:05.123456Z"),
    ("J", '{"k":[1,null,"x\\n"],"e":{}}'),
    ("J", "[]"),
]
NUL_VALUE = ("S", "nul\x00inside")  # NDJSON only: csv cannot read NUL


def rows(values):
    """Rows of len(NAMES) values, every value in every column once."""
    ncol = len(NAMES)
    out = []
    for start in range(len(values)):
        out.append([values[(start + c) % len(values)] for c in range(ncol)])
    out.append([(None, None)] * ncol)
    return out


def write_spec(path, table):
    with open(path, "w") as f:
        f.write(" ".join(n.encode().hex() for n in NAMES) + "\n")
        for row in table:
            items = []
            for kind, text in row:
                items.append("N:" if kind is None
                             else kind + ":" + text.encode().hex())
            f.write(" ".join(items) + "\n")


def run(tool, spec, out, args, gzip):
    cmd = [tool, spec, out] + args + (["gzip"] if gzip else [])
    subprocess.run(cmd, check=True)
    if not gzip:
        with open(out, "rb") as f:
            return f.read()
    return subprocess.run(["gzip", "-dc", out], check=True,
                          stdout=subprocess.PIPE).stdout


failures = []


def fail(msg):
    failures.append(msg)
    print(msg)


def report(name, before):
    print(("ok " if len(failures) == before else "FAIL ") + name)


def check_csv(tool, workdir, spec, table, delim, quote_all, crlf, gzip):
    before = len(failures)
    name = "csv delim=%r quote_all=%d crlf=%d gzip=%d" % (
        delim, quote_all, crlf, gzip)
    out = os.path.join(workdir, "out.csv" + (".gz" if gzip else ""))
    arg = "t" if delim == "\t" else delim
    data = run(tool, spec, out, ["csv", arg, str(quote_all), str(crlf)],
               gzip)
    lines = data.split(b"\r\n" if crlf else b"\n")
    if not data.endswith(b"\r\n" if crlf else b"\n"):
        fail(name + ": no line end at the end")
    reader = csv.reader(io.StringIO(data.decode(), newline=""),
                        delimiter=delim, quotechar='"', doublequote=True,
                        strict=True)
    got = list(reader)
    if got[0] != NAMES:
        fail("%s: header %r" % (name, got[0]))
    want = [["" if text is None else text for _, text in row]
            for row in table]
    if got[1:] != want:
        for i, (g, w) in enumerate(zip(got[1:], want)):
            if g != w:
                fail("%s: row %d: %r != %r" % (name, i, g[:3], w[:3]))
                break
        else:
            fail("%s: %d rows, expected %d" % (name, len(got) - 1,
                                               len(want)))
    # Python's reader reads NULL and "" alike; the raw bytes tell them
    # apart: an all-NULL row is delimiters only, and quote-all quotes
    # every non-NULL field.
    last = lines[-2] if lines[-1] == b"" else lines[-1]
    if last != delim.encode() * (len(NAMES) - 1):
        fail("%s: all-NULL row written as %r" % (name, last))
    if quote_all and not lines[1].startswith(b'"'):
        fail("%s: quote_all did not quote %r" % (name, lines[1][:20]))
    report(name, before)


def expected_json(kind, text):
    if kind is None:
        return None
    if kind in ("S", "T"):
        return text
    if kind == "I":
        return int(text)
    if kind in ("D", "F"):
        return Decimal(text)
    if kind == "B":
        return text == "true"
    return json.loads(text, parse_float=Decimal)


def check_ndjson(tool, workdir, spec, table, skip_nulls, gzip):
    before = len(failures)
    name = "ndjson skip_nulls=%d gzip=%d" % (skip_nulls, gzip)
    out = os.path.join(workdir, "out.ndjson" + (".gz" if gzip else ""))
    data = run(tool, spec, out, ["ndjson", str(skip_nulls)], gzip)
    lines = data.decode().split("\n")
    if lines[-1] != "":
        fail(name + ": no newline at the end")
    lines = lines[:-1]
    if len(lines) != len(table):
        fail("%s: %d lines, expected %d" % (name, len(lines), len(table)))
    for i, (line, row) in enumerate(zip(lines, table)):
        got = json.loads(line, parse_float=Decimal)
        want = {}
        for col, (kind, text) in zip(NAMES, row):
            if kind is None and skip_nulls:
                continue
            want[col] = expected_json(kind, text)
        if got != want or list(got) != list(want):
            fail("%s: row %d: %r != %r" % (name, i, got, want))
            break
        # -0.0 keeps its sign as written.
        if "-0.0" in [t for _, t in row] and "-0.0" not in line:
            fail("%s: row %d lost -0.0" % (name, i))
    report(name, before)


def main():
    tool, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    csv_table = rows(VALUES)
    json_table = rows(VALUES + [NUL_VALUE])
    csv_spec = os.path.join(workdir, "csv.spec")
    json_spec = os.path.join(workdir, "ndjson.spec")
    write_spec(csv_spec, csv_table)
    write_spec(json_spec, json_table)
    for delim in (",", "|", "\t"):
        for quote_all in (0, 1):
            for crlf in (0, 1):
                check_csv(tool, workdir, csv_spec, csv_table, delim,
                          quote_all, crlf, 0)
    check_csv(tool, workdir, csv_spec, csv_table, ",", 0, 1, 1)
    check_csv(tool, workdir, csv_spec, csv_table, "\t", 1, 0, 1)
    for skip_nulls in (0, 1):
        for gzip in (0, 1):
            check_ndjson(tool, workdir, json_spec, json_table, skip_nulls,
                         gzip)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
