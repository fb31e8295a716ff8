"""The pass/fail tally every runtime test script keeps: check() counts and
prints a failure, finish() prints the summary and exits 1 on a failure."""
import sys

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)
    return cond


def finish(extra=""):
    print("%d passed, %d failed%s" % (passed, failed, extra))
    sys.exit(1 if failed else 0)
