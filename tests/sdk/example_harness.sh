#!/bin/bash
# The guide's running example, end to end as a vendor runs it: build
# examples/plugin-ndjson out of tree against an installed dray (the ctest
# fixture sdk_installed) and run the INSTALLED dray-plugin-test on it.
# Every scenario run must pass, or skip for a need the plugin does not
# declare. A sanitized build runs only the scenarios checked by name below
# (the whole set through a sanitized dray takes too long).
#
#     example_harness.sh PREFIX SRC WORK CC [SANITIZE_FLAGS]
#
# WORK (inside the build tree) is emptied first and kept afterwards; the
# harness's temp folders go there too.
set -u
prefix=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$3
cc=$4
sanitize=${5:-} # compiler flags of a sanitized build, else empty
passed=0 failed=0

ok() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok; else fail "$what"; fi
}

rm -rf "$work"
mkdir -p "$work/tmp"
check "installed bin/dray-plugin-test" test -x "$prefix/bin/dray-plugin-test"
check "installed share/dray/scenarios" \
  test -n "$(find "$prefix/share/dray/scenarios" -name '*.scn' 2>/dev/null)"

# A sanitized SDK is instrumented: the plugin must link its runtime, and
# with the same compiler.
if cmake -S "$src/examples/plugin-ndjson" -B "$work/ndjson" \
     -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
     -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON \
     -DCMAKE_C_FLAGS="$sanitize" -DCMAKE_MODULE_LINKER_FLAGS="$sanitize" \
     >"$work/ndjson.log" 2>&1 &&
   cmake --build "$work/ndjson" >>"$work/ndjson.log" 2>&1; then
  ok
else
  cat "$work/ndjson.log"; fail "plugin-ndjson builds out of tree"
  echo "$passed passed, $failed failed"
  exit 1
fi
so=$work/ndjson/ndjson.so

# The config the guide shows; the harness takes the destination's options.
mkdir -p "$work/cfg/out"
cat >"$work/cfg/my.yml" <<YAML
plugin_path: [../ndjson]
destinations:
  - name: files
    plugin: ndjson
    mode: append
    options: {path: out}
YAML

# The scenarios must come from the install: no DRAY_SCENARIOS or DRAY
# override, and run from a folder outside the source tree.
harness() {
  (cd "$work" && env -u DRAY_SCENARIOS -u DRAY TMPDIR="$work/tmp" \
     "$prefix/bin/dray-plugin-test" "$@")
}
# Sanitized, even --list is slow (it parses every scenario it names).
globs=()
if [ -n "$sanitize" ]; then
  for s in 001-append-flat 019-append-every-version 051-values-unicode \
           075-replay-append 077-replay-keyless 010-upsert-replaces-row; do
    globs+=(--scenario "$s")
  done
fi
harness --list "${globs[@]}" >"$work/list.out" 2>&1
check "--list names the installed scenarios" \
  grep -q '^001-append-flat' "$work/list.out"
harness "$so" -c "$work/cfg/my.yml" --junit "$work/junit.xml" \
  "${globs[@]}" >"$work/run.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
  cat "$work/run.out"
fi
check "dray-plugin-test exits 0 (got $rc)" test "$rc" -eq 0
check "no scenario failed" test -z "$(grep '^FAIL' "$work/run.out")"
nok=$(grep -c '^ok ' "$work/run.out")
check "at least 5 scenarios pass (got $nok)" test "$nok" -ge 5
check "the append scenario passes" grep -q '^ok 001-append-flat' "$work/run.out"
check "replay is idempotent" grep -q '^ok 075-replay-append' "$work/run.out"
check "upsert scenarios skip for the missing need" \
  grep -q '^skip 010-upsert-replaces-row: .*upsert' "$work/run.out"
check "the summary counts them" \
  grep -Eq "^$nok passed, 0 failed, [0-9]+ skipped" "$work/run.out"
check "junit written" grep -q '<testsuite' "$work/junit.xml"
check "the harness left no temp folder" \
  test -z "$(find "$work/tmp" -mindepth 1 -maxdepth 1)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
