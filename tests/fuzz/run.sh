#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_<name>.c that has a seed corpus in
# corpus/<name>/ with libFuzzer, AddressSanitizer and UBSan, together with
# the SDK sources (sdk/src/*.c, compiled here, linked from an archive so a
# target gets only what it uses), and runs each for SECONDS (default 10) on
# a copy of its corpus. <name>.dict, when present, is passed as -dict.
#   bash tests/fuzz/run.sh [SECONDS]
# Exit status: 0 all passed; 1 a target crashed or did not build; 77 (a
# skip for ctest) when clang or its fuzzer runtime is missing.
# Environment: FUZZ_CC (default clang); FUZZ_ARTIFACTS, where crash inputs
# are kept (default ./fuzz-artifacts); FUZZ_JOBS, parallel compiles.
set -u
secs=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${FUZZ_CC:-clang}
artifacts=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "skipped: $cc not found (apt-get install clang libclang-rt-dev)"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dray-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
  'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
  > "$tmp/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" \
     >/dev/null 2>&1; then
  echo "skipped: $cc cannot link libFuzzer with ASan/UBSan (apt-get install libclang-rt-dev)"
  exit 77
fi

flags=(-std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
       -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=all
       -I"$root/sdk/include" -I"$root/sdk/src" -I"$here")

# The SDK, instrumented for coverage, compiled in parallel.
mkdir -p "$tmp/sdk"
printf '%s\n' "$root"/sdk/src/*.c |
  xargs -P "$jobs" -I{} sh -c \
    '"$0" "$@" -fsanitize=fuzzer-no-link -c "{}" -o "'"$tmp"'/sdk/$(basename "{}" .c).o"' \
    "$cc" "${flags[@]}" || { echo "FAIL: the SDK sources did not compile"; echo "0 passed, 1 failed"; exit 1; }
ar rcs "$tmp/libdray_sdk.a" "$tmp"/sdk/*.o

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
passed=0 failed=0
for src in "$here"/fuzz_*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  name=${name#fuzz_}
  if [ ! -d "$here/corpus/$name" ]; then
    echo "note: $(basename "$src") has no corpus/$name/ folder: not run"
    continue
  fi
  bin=$tmp/fuzz_$name
  run=$tmp/run_$name
  if ! "$cc" "${flags[@]}" -fsanitize=fuzzer "$src" "$tmp/libdray_sdk.a" \
       -ljansson -lz -o "$bin" >"$tmp/build_$name.log" 2>&1; then
    echo "FAIL $name: does not build"
    cat "$tmp/build_$name.log"
    failed=$((failed + 1))
    continue
  fi
  mkdir -p "$run/corpus"
  cp -R "$here/corpus/$name/." "$run/corpus/"
  dict=()
  [ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
  (cd "$run" && "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 \
     -artifact_prefix="$run/" -print_final_stats=1 "${dict[@]}" corpus \
     >"$run/log" 2>&1)
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log")
  if [ "$rc" -eq 0 ]; then
    echo "ok $name (${execs:-?} runs in ${secs}s)"
    passed=$((passed + 1))
  else
    echo "FAIL $name (exit $rc)"
    tail -n 60 "$run/log"
    mkdir -p "$artifacts/$name"
    for a in "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-*; do
      [ -e "$a" ] || continue
      cp "$a" "$artifacts/$name/"
      echo "input kept: $artifacts/$name/$(basename "$a")"
    done
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
