#!/bin/bash
# The guide's running example, end to end as a vendor runs it: install the
# build into a fresh prefix, build examples/plugin-ndjson out of tree
# against it, and run the INSTALLED dray-plugin-test on it. Every scenario
# must pass or skip for a need the plugin does not declare.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
sanitize=${3:-} # compiler flags of a sanitized build, else empty
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
passed=0 failed=0

ok() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok; else fail "$what"; fi
}

if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  echo "0 passed, 1 failed"
  exit 1
fi
check "installed bin/dray-plugin-test" test -x "$prefix/bin/dray-plugin-test"
check "installed share/dray/scenarios" \
  test -n "$(find "$prefix/share/dray/scenarios" -name '*.scn' 2>/dev/null)"

if cmake -S "$src/examples/plugin-ndjson" -B "$tmp/ndjson" \
     -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$sanitize" \
     -DCMAKE_MODULE_LINKER_FLAGS="$sanitize" >"$tmp/ndjson.log" 2>&1 &&
   cmake --build "$tmp/ndjson" >>"$tmp/ndjson.log" 2>&1; then
  ok
else
  cat "$tmp/ndjson.log"; fail "plugin-ndjson builds out of tree"
  echo "$passed passed, $failed failed"
  exit 1
fi
so=$tmp/ndjson/ndjson.so

# The config the guide shows; the harness takes the destination's options.
mkdir -p "$tmp/cfg/out"
cat >"$tmp/cfg/my.yml" <<YAML
plugin_path: [../ndjson]
destinations:
  - name: files
    plugin: ndjson
    mode: append
    options: {path: out}
YAML

# The scenarios must come from the install, not from the source tree: run
# from a folder outside both, with no DRAY_SCENARIOS or DRAY override.
(cd "$tmp" && env -u DRAY_SCENARIOS -u DRAY "$prefix/bin/dray-plugin-test" \
  --list) >"$tmp/list.out" 2>&1
check "--list names the installed scenarios" \
  grep -q '^001-append-flat' "$tmp/list.out"

(cd "$tmp" && env -u DRAY_SCENARIOS -u DRAY "$prefix/bin/dray-plugin-test" \
  "$so" -c "$tmp/cfg/my.yml" --junit "$tmp/junit.xml") >"$tmp/run.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
  cat "$tmp/run.out"
fi
check "dray-plugin-test exits 0 (got $rc)" test "$rc" -eq 0
check "no scenario failed" test -z "$(grep '^FAIL' "$tmp/run.out")"
nok=$(grep -c '^ok ' "$tmp/run.out")
check "at least 5 scenarios pass (got $nok)" test "$nok" -ge 5
check "the append scenario passes" grep -q '^ok 001-append-flat' "$tmp/run.out"
check "replay is idempotent" grep -q '^ok 075-replay-append' "$tmp/run.out"
check "upsert scenarios skip for the missing need" \
  grep -q '^skip 010-upsert-replaces-row: .*upsert' "$tmp/run.out"
check "the summary counts them" \
  grep -Eq "^$nok passed, 0 failed, [0-9]+ skipped" "$tmp/run.out"
check "junit written" grep -q '<testsuite' "$tmp/junit.xml"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
