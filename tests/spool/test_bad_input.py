#!/usr/bin/env python3
"""Bad input stops 'dray put' with a one-line FILE:LINE: error and leaves
everything before the last durable point intact.

Inputs of 3,000 records (two streams, STATE every 500, batches of 300)
with a line that is not JSON at line 2,000: given as a FILE argument, as
the second of two FILE arguments, and on stdin. Each time: exit status
non-zero, stderr one line that starts with the file's name (as given) and
the line number; the spool's batches are complete, their records a
per-stream prefix of what came before the bad line (nothing after it);
the saved STATE claims only durable records.
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import spoollib as L  # noqa: E402

BAD_LINE = 2000


def check_spool(a, config, spool, inp, bad_index):
    rows = L.dump(a, spool) if os.path.exists(spool) else []
    L.check_records_match(rows, inp)
    L.check_prefix(rows, inp)
    before = set(inp.ids_before_line(bad_index))
    after = [r["record"]["id"] for r in rows
             if r["record"]["id"] not in before]
    L.check(not after, f"records after the bad line were stored: {after[:5]}")
    saved = L.state(a, config, "shop") if os.path.exists(spool) else None
    L.check_state_durable(saved, inp, rows)
    return len(rows), saved


def run(a, scratch):
    inp = L.Input(["orders", "users"], 3000, 9, state_every=500)
    bad_index = BAD_LINE - 1
    L.check(inp.recs[bad_index] is not None, "line 2000 is not a record")
    lines = list(inp.lines)
    lines[bad_index] = '{"type":"RECORD","stream":"orders","record":{"id":'
    data = ("\n".join(lines) + "\n").encode()
    results = []
    for mode in ("file", "second-file", "stdin"):
        folder = os.path.join(scratch, mode)
        config = L.write_config(folder, batch={"max_records": 300})
        spool = os.path.join(folder, "spool")
        files, stdin, name, line = (), b"", None, BAD_LINE
        if mode == "file":
            name = os.path.join(folder, "input.jsonl")
            with open(name, "wb") as f:
                f.write(data)
            files = (name,)
        elif mode == "second-file":
            first = os.path.join(folder, "part1.jsonl")
            name = os.path.join(folder, "part2.jsonl")
            cut = 1000  # lines in the first file
            with open(first, "w") as f:
                f.write("\n".join(lines[:cut]) + "\n")
            with open(name, "w") as f:
                f.write("\n".join(lines[cut:]) + "\n")
            files, line = (first, name), BAD_LINE - cut
        else:
            stdin = data
        p = L.run_put(a, config, "shop", stdin, files)
        L.check(p.returncode != 0, f"{mode}: dray put on bad input exited 0")
        msg = L.one_line_error(p.stderr, f"{mode}: dray put on bad input")
        m = re.match(r"(?:dray: (?:error: )?)?(.+?):(\d+):", msg)
        L.check(m is not None, f"{mode}: the error is not FILE:LINE: ...: "
                f"{msg}")
        if name is not None:
            L.check(m.group(1) == name,
                    f"{mode}: the error names '{m.group(1)}', not '{name}'")
        L.check(int(m.group(2)) == line,
                f"{mode}: the error names line {m.group(2)}, expected {line}")
        n, saved = check_spool(a, config, spool, inp, bad_index)
        results.append(f"{mode}: {n} records durable, STATE {saved}; {msg}")
    for r in results:
        print(r)
    return None


if __name__ == "__main__":
    sys.exit(L.main(run))
