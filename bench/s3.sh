#!/usr/bin/env bash
# The S3 destination into moto_server (a fake S3 on the loopback) against
# uploading the same bytes with boto3 in the same run.
#
#   bash bench/s3.sh                    1,000,000 records
#   N=100000 bash bench/s3.sh           quick mode
#
# Environment:
#   N          records (default 1000000)
#   BUILD      the build folder, absolute or relative to the repository
#              (default build); dray is BUILD/bin/dray, the plugin
#              BUILD/lib/dray/plugins/s3.so
#   BATCHES    batch.max_records of the runs, one run per value and format
#              (default "N/10 N": 100000 and 1000000 at 1M records):
#              memory must not grow with it
#   PART       part_size of dray and of the baseline, in bytes (default
#              8388608, dray's default 8MiB)
#   THREADS    boto3's upload threads (default 1: dray uploads one part at
#              a time, from one thread, while it encodes the next)
#   FORMATS    default "csv jsonl"
#   WORK       scratch folder; generated data is kept there and reused
#              (default: a temp folder, removed at exit)
#   REPEAT     rounds; each figure is the best (shortest) of them, each
#              RSS the highest (default 1)
#
# Data: bench/gen_singer.py flat (one stream "orders", 14 data columns,
# ~425 bytes a record). For each format and batch size: a fresh spool,
# `dray put` (its RSS only), then `dray run --once` into a fresh prefix,
# measured by bench/measure.py (wall clock; peak RSS of the loader and of
# its worker). The objects are checked (row count) and their bytes become
# the baseline: s3_bench.py downloads them (not timed) and times boto3's
# upload_file of each, with the same part size. Every figure is a ratio
# against that baseline: rows/s of dray / rows/s of the upload (above 1x:
# dray is faster than moving its own output). The target is >= 0.7x, and
# a peak RSS of at most 64 MB that does not grow with the batch size.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
plugins=$build/lib/dray/plugins
n=${N:-1000000}
batches=${BATCHES:-$((${N:-1000000} / 10)) ${N:-1000000}}
part=${PART:-8388608}
threads=${THREADS:-1}
formats=${FORMATS:-csv jsonl}
bucket=bench

stop_services() {
    if [ -n "${moto_pid:-}" ]; then
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
    fi
}

py() { python3 "$here/s3_bench.py" "$@"; }

start_moto() {
    local port i
    port=$(py port)
    endpoint=http://127.0.0.1:$port
    moto_server -H 127.0.0.1 -p "$port" >"$work/logs/moto.log" 2>&1 &
    moto_pid=$!
    for ((i = 0; i < 300; i++)); do
        if python3 -c "import urllib.request as u
u.urlopen('$endpoint/moto-api/', timeout=2).read()" 2>/dev/null; then
            py mkbucket "$endpoint" "$bucket"
            return 0
        fi
        kill -0 "$moto_pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$work/logs/moto.log" >&2
    die "moto_server did not start"
}

# ---- one load ------------------------------------------------------------

write_config() { # DIR FORMAT BATCH PREFIX
    mkdir -p "$1"
    rm -rf "$1/spool"
    cat >"$1/dray.yml" <<EOF
spool: {path: ./spool}
plugin_path: ["$plugins"]
batch: {max_records: $3, max_bytes: 4GiB}
run: {concurrency: 1}
destinations:
  - name: lake
    plugin: s3
    mode: append
    options: {url: "s3://$bucket/$4", endpoint: "$endpoint",
              path_style: true, region: us-east-1, access_key_id: AKIDBENCH,
              secret_access_key: bench, format: $2, part_size: ${part}B,
              tmp_dir: "$1"}
EOF
}

bench_one() { # FORMAT BATCH
    local fmt=$1 b=$2 tag dir prefix
    tag=$fmt-$(short "$b")
    dir=$work/$tag
    prefix=run-$tag
    write_config "$dir" "$fmt" "$b" "$prefix"
    py clear "$endpoint" "$bucket"
    measure "put-$tag" -- "$dray" put -q -c "$dir/dray.yml" \
        --integration bench "$data"
    check_rc "put-$tag"
    measure "run-$tag" -- "$dray" run --once -c "$dir/dray.yml"
    check_rc "run-$tag" "$dir/dray.yml"
    py check "$endpoint" "$bucket" "$prefix/" "$n" "$fmt" \
        >"$work/logs/check-$tag.m" || die "$tag: the objects are wrong"
    say "$tag: dray run --once $(meta "$work/logs/run-$tag.m" WALL)s," \
        "$(meta "$work/logs/check-$tag.m" OBJECTS) objects," \
        "$(meta "$work/logs/check-$tag.m" BYTES) bytes"
    py baseline "$endpoint" "$bucket" "$prefix/" "$part" "$threads" \
        "$work/copy" "$work/logs/base-$tag.m" ||
        die "$tag: the baseline upload failed"
    keep_best "base-$tag"
    cp "$work/logs/check-$tag.m" "$work/logs/check-$tag.best"
    say "$tag: boto3 upload_file $(meta "$work/logs/base-$tag.m" WALL)s"
    py clear "$endpoint" "$bucket"
    rm -rf "$dir/spool"
}

# ---- the report ----------------------------------------------------------

mbps() { # BYTES SECONDS
    awk -v b="$1" -v s="$2" \
        'BEGIN { printf "%.1f", b / 1048576 / (s > 0 ? s : 1e-9) }'
}

compare() { # FORMAT BATCH
    local tag dw bw bytes line
    tag=$1-$(short "$2")
    dw=$(got "run-$tag" WALL)
    bw=$(got "base-$tag" WALL)
    bytes=$(got "check-$tag" BYTES)
    line=$(printf '%-22s %8s rows/s %7s MB/s (%6.2fs) | %8s rows/s %7s MB/s (%6.2fs) | %5sx' \
        "$1, batches of $(short "$2")" \
        "$(rate "$n" "$dw")" "$(mbps "$bytes" "$dw")" "$dw" \
        "$(rate "$n" "$bw")" "$(mbps "$bytes" "$bw")" "$bw" \
        "$(awk -v a="$bw" -v b="$dw" 'BEGIN { printf "%.2f", a / b }')")
    results+=("$line")
}

report() {
    local line fmt b
    echo
    about_dray
    echo "moto $(python3 -c 'import moto; print(moto.__version__)')," \
        "boto3 $(python3 -c 'import boto3; print(boto3.__version__)')," \
        "$(about_cpus)"
    echo "N=$n flat records, part_size $part, boto3 threads $threads," \
        "best of $repeat; MB/s counts the objects' bytes"
    echo
    printf '%-22s %-39s | %-39s | ratio\n' "" "dray run --once" \
        "boto3 upload_file of dray's objects"
    for line in "${results[@]}"; do echo "$line"; done
    echo
    echo "peak RSS (VmHWM, sampled every 50 ms; worker = dray __worker):"
    for fmt in $formats; do
        for b in $batches; do
            note_rss "put ($fmt, $(short "$b"))" \
                "put-$fmt-$(short "$b")" 30
            note_rss "run --once ($fmt, $(short "$b"))" \
                "run-$fmt-$(short "$b")" 30
        done
    done
    for line in "${rss[@]}"; do echo "$line"; done
}

main() {
    local round fmt b
    [ -x "$dray" ] || die "no dray at $dray (build it, or set BUILD)"
    [ -f "$plugins/s3.so" ] || die "no S3 plugin at $plugins/s3.so (build it)"
    command -v moto_server >/dev/null || die "moto_server is not installed"
    python3 -c 'import boto3' 2>/dev/null || die "boto3 is not installed"
    case $n$repeat$part$threads in
    '' | *[!0-9]*) die "N, REPEAT, PART and THREADS must be numbers" ;;
    esac
    setup_work s3
    start_moto
    say "work in $work, moto_server at $endpoint"

    generate flat "$n"
    data=$work/data-$n/flat.jsonl
    warm "$data"

    for ((round = 1; round <= repeat; round++)); do
        [ "$repeat" = 1 ] || say "round $round of $repeat"
        for fmt in $formats; do
            for b in $batches; do
                bench_one "$fmt" "$b"
            done
        done
    done
    for fmt in $formats; do
        for b in $batches; do
            compare "$fmt" "$b"
        done
    done
    report
}

main "$@"
