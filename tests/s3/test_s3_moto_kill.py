#!/usr/bin/env python3
"""The S3 destination killed in the middle of a multipart upload: SIGKILL
of the worker, or of the whole `dray run`, while parts are being sent or
just before CompleteMultipartUpload, then the load run to its end.

    test_s3_moto_kill.py DRAY PLUGIN_DIR       (PLUGIN_DIR holds s3.so)

moto sits behind tests/s3/fault_proxy.py, whose "stall" rule holds one
chosen request unanswered (and not forwarded) until its client dies: the
test waits for that request in the proxy's log, so every kill lands at
the point it names. After each: exactly one object per table of the
batch, with the bytes of a clean first load (itself checked against the
input), and no multipart upload left in progress: the killed attempt's
upload is aborted by the attempt that completes the same key (docs/S3.md
"Writing objects"). Exits 77 without moto_server or boto3. ONLY=word runs
the tests whose name holds it; SEED sets the random kill time.
"""
import os
import random
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_moto_util import (SLOW, Lake, big_stream,  # noqa: E402
                          check, csv_digest, delete_all, list_keys,
                          main_with_moto, s3_opts, sha256, stop, wait_for)
from fault_proxy import FaultProxy  # noqa: E402
from s3_server import MotoServer  # noqa: E402
import s3_util  # noqa: E402

M = None
N = 200000  # about 40 MB of CSV: 8 parts of 5 MiB
PART_RULE = {"method": "PUT", "query": "partNumber"}
COMPLETE_RULE = {"method": "POST", "query": "uploadId"}


def stalled(proxy):
    """The log entry of the request the stall rule holds, or None."""
    for e in proxy.log():
        if e["fault"] == "stall":
            return e
    return None


def parts_sent(proxy):
    return [e for e in proxy.log() if e["method"] == "PUT" and
            "partNumber" in e["query"] and e["status"] == 200]


def uploads(c, b):
    return s3_util.uploads_in_progress(c, b)


def test_killed_mid_multipart():
    c = s3_util.client(M.endpoint)
    b = s3_util.make_bucket(c, "kill")
    lines, digest = big_stream("events", N, 180)
    rng = random.Random(os.environ.get("SEED", "s3-moto-kill"))
    with FaultProxy(M.endpoint) as proxy:
        lake = Lake("kill", {"lake": s3_opts(proxy.endpoint, b, "p",
                                             part_size="5MiB")},
                    batch={"max_records": 1000000, "max_bytes": "1GiB"},
                    spool={"keep_loaded": "1h"},
                    run={"concurrency": 1, "crash_limit": 20,
                         "retry": {"attempts": 5, "initial": "50ms",
                                   "max": "100ms"}})
        try:
            lake.put(lines, timeout=300)
            bid = lake.batch_ids()
            check(len(bid) == 1, "one batch: %s" % bid)
            acked = os.path.join(lake.spool, "dest", "lake", "acked", bid[0])

            # The reference: a load without faults, checked against the
            # input.
            lake.run(what="clean load")
            keys = list_keys(c, b)
            check(len(keys) == 1 and "/events/" in keys[0],
                  "one object: %s" % keys)
            ref = s3_util.read_object(c, b, keys[0]) if keys else b""
            rows, got = csv_digest(ref)
            check(rows == N and got == digest,
                  "the clean load: %d rows of %d, data digest %s (input's "
                  "%s)" % (rows, N, got[:12], digest[:12]))
            check(len(ref) > 6 * 5 * 1024 * 1024,
                  "the object takes several parts: %d bytes" % len(ref))
            ref_sha = sha256(ref)

            def after(name):
                """The batch loaded again, whole, nothing left over."""
                k = list_keys(c, b)
                check(k == keys, "%s: the same one key: %s" % (name, k))
                if k == keys:
                    data = s3_util.read_object(c, b, k[0])
                    check(sha256(data) == ref_sha and len(data) == len(ref),
                          "%s: the object has the clean load's bytes (%d "
                          "of %d)" % (name, len(data), len(ref)))
                check(uploads(c, b) == [], "%s: no upload left in "
                      "progress: %s" % (name, uploads(c, b)))
                check(os.path.exists(acked), "%s: the batch is acked" % name)

            def fresh(rules):
                delete_all(c, b)
                lake.forget_acks()
                proxy.clear_log()
                proxy.set_faults(rules)

            # (name, rules, what to wait for, whom to kill)
            points = [
                ("worker during parts",
                 [dict(PART_RULE, action="stall", at=[3])],
                 lambda: stalled(proxy), "worker"),
                ("worker just before complete",
                 [dict(COMPLETE_RULE, action="stall", at=[1])],
                 lambda: stalled(proxy), "worker"),
                ("run during parts",
                 [dict(PART_RULE, action="stall", at=[2])],
                 lambda: stalled(proxy), "run"),
                ("run just before complete",
                 [dict(COMPLETE_RULE, action="stall", at=[1])],
                 lambda: stalled(proxy), "run"),
                ("run at a random time after the first part", [],
                 lambda: parts_sent(proxy), "run"),
            ]
            for name, rules, cond, whom in points:
                t0 = time.monotonic()
                fresh(rules)
                p = lake.start_run()
                try:
                    if not check(wait_for(cond, 120, step=0.005),
                                 "%s: the point was not reached: %s"
                                 % (name, proxy.log()[-3:])):
                        continue
                    if not rules:
                        time.sleep(rng.uniform(0, 1.5) * SLOW)
                    if whom == "worker":
                        w = lake.worker_of(p.pid, "lake")
                        check(len(w) == 1, "%s: one worker: %s" % (name, w))
                        for pid in w:
                            os.kill(pid, signal.SIGKILL)
                        proxy.set_faults([])
                        rc = p.wait(timeout=300 * SLOW)
                        check(rc == 0, "%s: the run loads the batch after "
                              "the crash: exit %s %s" % (name, rc,
                                                         lake.run_err()))
                        check("1 worker death" in lake.run_err(),
                              "%s: the run saw the worker die: %s"
                              % (name, lake.run_err()))
                    else:
                        stop(p)
                        proxy.set_faults([])
                        if rules:
                            check(list_keys(c, b) == [],
                                  "%s: killed before Complete, no object "
                                  "is visible: %s" % (name, list_keys(c, b)))
                            left = uploads(c, b)
                            check(len(left) == 1 and left[0][0] == keys[0],
                                  "%s: the killed attempt left its upload: "
                                  "%s" % (name, left))
                        lake.run(what=name + ", run again")
                finally:
                    if p.poll() is None:
                        stop(p)
                after(name)
                aborts = [e for e in proxy.log() if e["method"] == "DELETE"
                          and "uploadId" in e["query"]]
                if rules:
                    check(len(aborts) == 1,
                          "%s: the leftover upload was aborted once: %s"
                          % (name, aborts))
                print("%s: %.1f s" % (name, time.monotonic() - t0),
                      flush=True)
        finally:
            lake.close()


TESTS = [test_killed_mid_multipart]


if __name__ == "__main__":
    M = MotoServer()
    main_with_moto(M, TESTS)
