# shellcheck shell=bash
# What the benchmark scripts (postgres.sh, s3.sh) share: the build's
# paths, messages, the scratch folder, generated data, running a command
# under measure.py and keeping the best of REPEAT rounds, and the figures
# of the report. Sourced after `set -euo pipefail`; the script defines
# stop_services (its servers, for the exit trap).
#
# Sets here, root, build, dray, repeat, results and rss; setup_work sets
# work and keep_work.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD:-build}
[[ $build == /* ]] || build=$root/$build
dray=$build/bin/dray
# shellcheck disable=SC2034 # read by the scripts
repeat=${REPEAT:-1}

# shellcheck disable=SC2034 # filled and printed by the scripts
results=() # the report, one line each
rss=()     # peak RSS lines

die() {
    echo "bench: $*" >&2
    exit 1
}

say() { echo "bench: $*" >&2; }

meta() { # FILE KEY
    sed -n "s/^$2=//p" "$1"
}

# ---- the scratch folder ----------------------------------------------------

# WORK, kept; else a temp folder /tmp/dray-bench-NAME.*, removed at exit.
# Stale figures of an earlier run in WORK are removed.
setup_work() { # NAME
    if [ -n "${WORK:-}" ]; then
        work=$WORK
        mkdir -p "$work"
        keep_work=1
    else
        work=$(mktemp -d "/tmp/dray-bench-$1.XXXXXX")
        keep_work=0
    fi
    work=$(cd "$work" && pwd)
    mkdir -p "$work/logs"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    rm -f "$work"/logs/*.best
}

cleanup() {
    local rc=$?
    stop_services
    if [ -n "${work:-}" ] && [ "$keep_work" = 0 ]; then
        rm -rf "$work"
    fi
    exit "$rc"
}

# bench/gen_singer.py KIND COUNT into work/data-COUNT, unless there.
generate() { # KIND COUNT
    local dir=$work/data-$2
    mkdir -p "$dir"
    if [ -s "$dir/$1.meta" ] &&
        [ "$(meta "$dir/$1.meta" RECORDS)" = "$2" ]; then
        return 0
    fi
    say "generating $1, $2 records"
    python3 "$here/gen_singer.py" "$1" "$2" "$dir"
}

warm() { # FILE...: into the page cache, so loads are measured, not reads
    cat "$@" >/dev/null
}

# ---- measuring -----------------------------------------------------------

# measure NAME [--stdin FILE] -- CMD...: runs CMD under measure.py; its
# stderr goes to logs/NAME.log; the results to logs/NAME.m.
measure() {
    local name=$1
    shift
    local opts=()
    while [ "$1" != -- ]; do
        opts+=("$1" "$2")
        shift 2
    done
    shift
    rm -f "$work/logs/$name.m"
    python3 "$here/measure.py" --dray "$dray" "${opts[@]}" \
        --stdout "$work/logs/$name.out" "$work/logs/$name.m" -- "$@" \
        2>"$work/logs/$name.log" || true
    [ -s "$work/logs/$name.m" ] || die "$name: measure.py wrote nothing"
    keep_best "$name"
}

# Over REPEAT runs, NAME.best keeps the shortest wall clock and the
# highest RSS figures (of logs/NAME.m, this run's).
keep_best() { # NAME
    local m=$work/logs/$1.m best=$work/logs/$1.best
    if [ ! -f "$best" ]; then
        cp "$m" "$best"
        return 0
    fi
    awk -F= 'NR == FNR { v[$1] = $2; next }
        $1 == "WALL" { if ($2 + 0 < v[$1] + 0) v[$1] = $2; next }
        $1 == "RC" || $1 == "BYTES" || $1 == "OBJECTS" { v[$1] = $2; next }
        { if (!($1 in v) || $2 + 0 > v[$1] + 0) v[$1] = $2 }
        END { for (k in v) print k "=" v[k] }' "$best" "$m" |
        sort >"$best.tmp"
    mv "$best.tmp" "$best"
}

got() { # NAME KEY: the best of the runs so far
    meta "$work/logs/$1.best" "$2"
}

# Fails with the log when the measured command did not exit 0.
check_rc() { # NAME [CONFIG]
    local rc
    rc=$(meta "$work/logs/$1.m" RC)
    [ "$rc" = 0 ] && return 0
    echo "---- $1 exited $rc; the end of its log:" >&2
    tail -n 30 "$work/logs/$1.log" >&2
    if [ -n "${2:-}" ]; then
        "$dray" status -c "$2" >&2 || true
    fi
    die "$1 failed (exit $rc)"
}

# ---- the report ----------------------------------------------------------

rate() { # AMOUNT SECONDS
    awk -v r="$1" -v s="$2" 'BEGIN { printf "%.0f", r / (s > 0 ? s : 1e-9) }'
}

# 10000000 as 10M, 20000 as 20k.
short() { # COUNT
    if [ $(($1 % 1000000)) = 0 ]; then
        echo "$(($1 / 1000000))M"
    elif [ $(($1 % 1000)) = 0 ]; then
        echo "$(($1 / 1000))k"
    else
        echo "$1"
    fi
}

# One line of rss: LABEL, then the highest peak RSS of each dray role
# (worker = dray __worker) of NAME's runs.
note_rss() { # LABEL NAME [LABEL_WIDTH]
    local line="" key kb part procs
    while IFS='=' read -r key kb; do
        part=${key#RSS_}
        [ "$part" != cmd ] || continue
        [ -z "$line" ] || line+=", "
        line+=$(printf '%s %.1f MB' "$part" \
            "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')")
        procs=$(got "$2" "PROCS_$part")
        [ "${procs:-1}" -le 1 ] || line+=" (x$procs)"
    done < <(grep '^RSS_' "$work/logs/$2.best")
    rss+=("$(printf '%-*s %s' "${3:-36}" "$1" "$line")")
}

# The report's first line: dray's version and path.
about_dray() {
    echo "$("$dray" --version 2>/dev/null | head -n 1) ($dray)"
}

about_cpus() { # e.g. "2 CPUs, <model name>"
    echo "$(nproc) CPUs," \
        "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
}
