#!/usr/bin/env bash
# Parse throughput: dray_json_parse against jansson's json_loadb on a stream
# of ~425-byte flat Singer RECORD lines (1M by default), one core, best of 3.
#   bash bench/parse.sh [RECORDS]
# Environment: CC (default cc); CFLAGS_EXTRA, added to -O2 (for instance
# -DDRAY_JSON_NO_SIMD for the portable string scanner, or -march=native);
# WORK, a scratch folder that keeps the generated stream between runs
# (default: a temp dir, removed after).
set -euo pipefail
records=${1:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cc=${CC:-cc}
if [ -n "${WORK:-}" ]; then
  work=$WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

data=$work/records-$records.jsonl
if [ ! -s "$data" ]; then
  echo "generating $records records into $data"
  python3 "$here/gen_records.py" "$records" "$data.tmp"
  mv "$data.tmp" "$data"
fi

# The SDK as a plugin build gets it: every sdk/src/*.c at -O2, in an archive
# so that only what the driver uses is linked.
flags=(-std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
       -I"$root/sdk/include")
# shellcheck disable=SC2206 # word splitting wanted
flags+=(${CFLAGS_EXTRA:-})
mkdir -p "$work/obj"
rm -f "$work/obj"/*.o "$work/libdray_sdk.a"
for src in "$root"/sdk/src/*.c; do
  "$cc" "${flags[@]}" -c "$src" -o "$work/obj/$(basename "$src" .c).o"
done
ar rcs "$work/libdray_sdk.a" "$work"/obj/*.o
"$cc" "${flags[@]}" "$here/parse_bench.c" "$work/libdray_sdk.a" \
  -ljansson -lz -o "$work/parse_bench"

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc $(nproc)"
"$work/parse_bench" "$data"
