#!/usr/bin/env bash
# 'dray put' throughput and memory: the flat benchmark stream (SCHEMA +
# gen_records.py's RECORD lines) into a fresh spool on the same disk,
# against that disk's own sequential write and read speed.
#   bash bench/put.sh [SIZE_MB...]        default: 256 1024
# Environment:
#   DRAY    the dray binary (default: build/bin/dray; build it Release or
#           RelWithDebInfo, not with sanitizers)
#   WORK    the scratch folder, on the disk to measure; keeps the
#           generated inputs between runs (default: a temp dir, removed)
#   REPEAT  runs of put per size, the best counts (default 1)
# For each size: put's MB/s of Singer input (wall clock, input in the page
# cache), its CPU time, peak RSS (/usr/bin/time -v, else VmHWM sampled
# from /proc), and dd's write (conv=fdatasync) and read (iflag=direct)
# speed for a file of the same size; the ratio put / disk write.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dray=${DRAY:-$root/build/bin/dray}
repeat=${REPEAT:-1}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(256 1024)
[ -x "$dray" ] || { echo "no dray at $dray (set DRAY)" >&2; exit 1; }
if [ -n "${WORK:-}" ]; then
  work=$WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
work=$(cd "$work" && pwd)

# The SCHEMA of gen_records.py's "orders" stream.
schema='{"type":"SCHEMA","stream":"orders","key_properties":["id"],"schema":{"type":"object","properties":{"id":{"type":"integer"},"status":{"type":"string"},"amount":{"type":"string"},"tax_rate":{"type":"number"},"quantity":{"type":"integer"},"is_gift":{"type":"boolean"},"coupon":{"type":["null","string"]},"email":{"type":"string"},"city":{"type":"string"},"note":{"type":"string"},"created_at":{"type":"string","format":"date-time"},"updated_at":{"type":"string","format":"date-time"},"weight_kg":{"type":"number"},"score":{"type":"number"}}}}'

mbps() { # bytes seconds
  awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'
}

# Runs a command; writes "peak-RSS-KB wall-s cpu-s" to $work/measure.out.
measure() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M %e %U %S' -o "$work/time.out" "$@" >/dev/null
    tail -1 "$work/time.out" |
      awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' >"$work/measure.out"
  else
    local start end pid hwm=0 v
    start=$(date +%s.%N)
    "$@" >/dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      v=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null ||
        true)
      [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
      sleep 0.05
    done
    wait "$pid"
    end=$(date +%s.%N)
    awk -v h="$hwm" -v a="$start" -v b="$end" \
      'BEGIN { print h, b - a, "?" }' >"$work/measure.out"
  fi
}

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc $(nproc)"
echo "disk: $(df -h --output=source,fstype,size,avail "$work" | tail -1)"
echo "dray: $dray"
fmt='%-8s %-8s %-9s %-8s %-9s %-9s %-6s %-7s %s\n'
# shellcheck disable=SC2059 # the format is ours
printf "\n$fmt" size input put put-cpu disk-wr disk-rd ratio rss-MB spool-MB
for mb in "${sizes[@]}"; do
  records=$((mb * 1000000 / 425))
  data=$work/put-$mb.jsonl
  if [ ! -s "$data" ]; then
    echo "generating $records records into $data" >&2
    python3 "$here/gen_records.py" "$records" "$data.rec"
    { echo "$schema"; cat "$data.rec"; } >"$data.tmp"
    rm "$data.rec"
    mv "$data.tmp" "$data"
  fi
  bytes=$(stat -c %s "$data")
  cat "$data" >/dev/null # into the page cache: put is measured, not reads

  best_wall=
  for _ in $(seq "$repeat"); do
    rm -rf "$work/spool" "$work/dray.yml"
    printf 'spool: {path: ./spool}\n' >"$work/dray.yml"
    measure "$dray" put -q -c "$work/dray.yml" --integration bench "$data"
    read -r rss wall cpu <"$work/measure.out"
    if [ -z "$best_wall" ] ||
      awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
      best_wall=$wall best_cpu=$cpu best_rss=$rss
    fi
    spool_mb=$(du -sm "$work/spool" | cut -f1)
  done
  rm -rf "$work/spool"

  # The disk on its own: the same number of bytes written and fsynced,
  # then read back bypassing the page cache.
  blocks=$(((bytes + 4194303) / 4194304))
  w=$(dd if=/dev/zero of="$work/dd.bin" bs=4M count="$blocks" conv=fdatasync \
    2>&1 | awk '/copied/ { print $(NF-3) }')
  r=$(dd if="$work/dd.bin" of=/dev/null bs=4M iflag=direct 2>&1 |
      awk '/copied/ { print $(NF-3) }')
  dd_bytes=$(stat -c %s "$work/dd.bin")
  rm -f "$work/dd.bin"
  put_mbps=$(mbps "$bytes" "$best_wall")
  wr_mbps=$(mbps "$dd_bytes" "$w")
  rd_mbps=$(mbps "$dd_bytes" "$r")
  # shellcheck disable=SC2059
  printf "$fmt" "${mb}MB" \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.0fMB", b / 1e6 }')" \
    "${put_mbps}MB/s" "${best_cpu}s" "${wr_mbps}MB/s" "${rd_mbps}MB/s" \
    "$(awk -v p="$put_mbps" -v w="$wr_mbps" 'BEGIN { printf "%.2f", p / w }')" \
    "$(awk -v k="$best_rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$spool_mb"
done
