#!/usr/bin/env bash
# The PostgreSQL destination against psql's \copy on the same server.
#
#   bash bench/postgres.sh                 1,000,000 records
#   N=20000 bash bench/postgres.sh         quick mode (well under a minute)
#   BENCH_BIG=1 bash bench/postgres.sh     also 10M records: RSS stays flat
#
# Environment:
#   N          records per data set (default 1000000)
#   BUILD      the build folder, absolute or relative to the repository
#              (default build); dray is BUILD/bin/dray, the plugin
#              BUILD/lib/dray/plugins/postgres.so
#   BATCH      batch.max_records of the dray config (default: none set,
#              dray's own limits: 1M records or 64 MiB of spool, which
#              cuts 1M flat records into 6 batches)
#   BENCH_BIG  1: after the N runs, flat and nested at BIG_N records
#   BIG_N      records of the big runs (default 10000000)
#   WORK       scratch folder; generated data is kept there and reused
#              (default: a temp folder, removed at exit)
#   REPEAT     rounds; each figure is the best (shortest) of them, each
#              RSS the highest (default 1)
#   BASELINES_ONLY  1: only the baselines, without dray (checks the data,
#              the server and psql; prints rows/s, no ratios)
#
# Data (bench/gen_singer.py): one stream "orders", key id. flat: 14 data
# columns; upsert: the same with ~30 % of the records repeating an earlier
# id; nested: flat plus an object (shipping__* columns) and an array of
# 1-4 objects (the subtable orders__items). Every data set also comes as
# pre-flattened CSV with equivalent system column values: the baselines
# load it into hand-made tables of the same columns, types and keys.
#
# Every figure is a ratio against a baseline measured in the same run:
# rows/s of dray / rows/s of the baseline (above 1x: dray is faster).
# Row counts are checked after every load, and each dray table's data
# columns are compared with its baseline table's (sums, hashes, null
# counts): a load that is fast and wrong fails the benchmark (exit 1).
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
plugin=$build/lib/dray/plugins/postgres.so
n=${N:-1000000}
batch=${BATCH:-}
big=${BENCH_BIG:-0}
big_n=${BIG_N:-10000000}
baselines_only=${BASELINES_ONLY:-0}
fixture=$root/tests/fixtures/postgres.sh

sizes=() # what the data sets hold

stop_services() {
    if [ -n "${work:-}" ]; then
        bash "$fixture" stop "$work/pg" >/dev/null 2>&1 || true
    fi
}

start_server() {
    bash "$fixture" start "$work/pg" >"$work/logs/postgres-start.log" 2>&1 ||
        {
            cat "$work/logs/postgres-start.log" >&2
            die "no PostgreSQL server"
        }
    set -a
    # shellcheck source=/dev/null
    . "$work/pg/env"
    set +a
    dsn="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=$PGUSER"
}

q() { # SQL: one query, unaligned, tuples only
    PGOPTIONS='-c client_min_messages=warning' \
        psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}

# ---- the report lines -----------------------------------------------------

# One line of the report: what, dray's run, the baseline's, the ratio.
compare() { # LABEL ROWS DRAY_NAME BASE_LABEL BASE_NAME
    local rows=$2 dw bw dr br
    dw=$(got "$3" WALL)
    bw=$(got "$5" WALL)
    dr=$(rate "$rows" "$dw")
    br=$(rate "$rows" "$bw")
    local fmt='%-36s %8s rows/s (%6.2fs) | %-20s %8s rows/s (%6.2fs) | %5sx'
    # shellcheck disable=SC2059 # the format is ours
    results+=("$(printf "$fmt" "$1" "$dr" "$dw" "$4" "$br" "$bw" \
        "$(awk -v a="$dr" -v b="$br" 'BEGIN { printf "%.2f", a / b }')")")
}

# BASELINES_ONLY: a baseline's own line, rows/s without a ratio.
baseline() { # LABEL ROWS NAME
    local w
    w=$(got "$3" WALL)
    results+=("$(printf '%-36s %8s rows/s (%6.2fs)' "$1" \
        "$(rate "$2" "$w")" "$w")")
}

# Progress on stderr: one measured command of this round.
took() { # NAME ROWS
    say "$1: $(meta "$work/logs/$1.m" WALL)s," \
        "$(rate "$2" "$(meta "$work/logs/$1.m" WALL)") rows/s"
}

# ---- tables --------------------------------------------------------------

create_table() { # TABLE COLS [PK]
    if [ -n "${3:-}" ]; then
        q "create table $1 (${2//;/, }, primary key ($3))"
    else
        q "create table $1 (${2//;/, })"
    fi
}

fresh_schema() { # NAME
    q "drop schema if exists $1 cascade; create schema $1"
}

count_is() { # TABLE EXPECTED WHAT
    local c
    c=$(q "select count(*) from $1") || die "$3: no table $1"
    [ "$c" = "$2" ] || die "$3: $1 has $c rows, expected $2"
}

# The data columns' fingerprint: sums, hashes and null counts per column.
fingerprint() { # TABLE COLS
    local parts=("count(*)") cols col name type
    IFS=';' read -ra cols <<<"$2"
    for col in "${cols[@]}"; do
        name=${col%% *}
        type=${col#* }
        case $name in
        _sdc_received_at | _sdc_batched_at | _sdc_sequence) continue ;;
        esac
        case $type in
        bigint | numeric) parts+=("sum($name)") ;;
        "double precision") parts+=("sum($name::numeric)") ;;
        boolean) parts+=("count(*) filter (where $name)") ;;
        "timestamp with time zone")
            parts+=("sum(extract(epoch from $name))")
            ;;
        text) parts+=("sum(hashtext($name)::bigint)") ;;
        esac
        parts+=("count($name)")
    done
    local IFS=,
    q "select ${parts[*]} from $1"
}

same_data() { # DRAY_TABLE BASE_TABLE COLS WHAT
    local a b
    a=$(fingerprint "$1" "$3") || die "$4: $1 lacks a column of $2"
    b=$(fingerprint "$2" "$3")
    [ "$a" = "$b" ] && return 0
    echo "dray     $1: $a" >&2
    echo "baseline $2: $b" >&2
    die "$4: $1 holds other data than $2"
}

# Notes (does not fail) when the tables differ in columns, types or
# indexes: then the comparison is not like for like.
same_shape() { # DRAY_TABLE BASE_TABLE
    local sql a b
    sql="select string_agg(attname || ' ' ||
           format_type(atttypid, atttypmod), ', ' order by attname) ||
         ' | indexes: ' ||
         (select count(*) from pg_index where indrelid = '%s'::regclass)
         from pg_attribute where attrelid = '%s'::regclass and attnum > 0
         and not attisdropped"
    # shellcheck disable=SC2059 # the format is ours
    a=$(q "$(printf "$sql" "$1" "$1")")
    # shellcheck disable=SC2059
    b=$(q "$(printf "$sql" "$2" "$2")")
    if [ "$a" != "$b" ]; then
        say "note: $1 and $2 differ in shape"
        echo "  dray:     $a" >&2
        echo "  baseline: $b" >&2
    fi
}

# ---- dray ----------------------------------------------------------------

write_config() { # DIR MODE SCHEMA
    mkdir -p "$1"
    rm -rf "$1/spool"
    {
        echo "spool: {path: ./spool}"
        [ -z "$batch" ] || echo "batch: {max_records: $batch, max_bytes: 256MiB}"
    } >"$1/dray.yml"
    cat >>"$1/dray.yml" <<EOF
destinations:
  - name: pg
    plugin: postgres
    mode: $2
    options: {dsn: "$dsn", schema: $3}
EOF
}

dray_put() { # NAME CONFIG FILE
    measure "$1" -- "$dray" put -q -c "$2" --integration bench "$3"
    check_rc "$1"
}

dray_run() { # NAME CONFIG
    q "checkpoint"
    measure "$1" -- "$dray" run --once -c "$2"
    check_rc "$1" "$2"
}

dray_target() { # NAME CONFIG FILE
    q "checkpoint"
    measure "$1" --stdin "$3" -- "$dray" target -c "$2" --integration bench
    check_rc "$1" "$2"
}

# ---- baselines -----------------------------------------------------------

copy_csv() { # NAME TABLE CSV
    q "checkpoint"
    measure "$1" -- psql -X -q -v ON_ERROR_STOP=1 \
        -c "\\copy $2 from '$3' with (format csv)"
    check_rc "$1"
}

copy_binary() { # NAME TABLE FILE
    q "checkpoint"
    measure "$1" -- psql -X -q -v ON_ERROR_STOP=1 \
        -c "\\copy $2 from '$3' with (format binary)"
    check_rc "$1"
}

# COPY into a stage, then keep per key the row of the highest sequence:
# INSERT ... ON CONFLICT, in one transaction.
copy_merge() { # NAME TABLE COLS CSV
    local sets=() cols col name
    IFS=';' read -ra cols <<<"$3"
    for col in "${cols[@]}"; do
        name=${col%% *}
        [ "$name" = id ] || sets+=("$name = excluded.$name")
    done
    local IFS=,
    cat >"$work/merge.sql" <<EOF
create temp table stage (like $2) on commit drop;
\\copy stage from '$4' with (format csv)
insert into $2 select distinct on (id) * from stage
  order by id, _sdc_sequence desc
  on conflict (id) do update set ${sets[*]}
  where $2._sdc_sequence <= excluded._sdc_sequence;
EOF
    q "checkpoint"
    measure "$1" -- psql -X -q -v ON_ERROR_STOP=1 -1 -f "$work/merge.sql"
    check_rc "$1"
}

copy_nested() { # NAME ROOT_TABLE ROOT_CSV ITEMS_TABLE ITEMS_CSV
    q "checkpoint"
    measure "$1" -- psql -X -q -v ON_ERROR_STOP=1 -1 \
        -c "\\copy $2 from '$3' with (format csv)" \
        -c "\\copy $4 from '$5' with (format csv)"
    check_rc "$1"
}

# ---- the benchmarks ------------------------------------------------------

# Tables dray appends to have no primary key (a key would refuse a second
# version of a row), those it upserts into have the stream's: so have the
# baselines.
#
# Each bench_* loads, checks and measures one round; summary() turns the
# best of the rounds into the report. TAG names the logs of a size (""
# for N, -big for BIG_N).

bench_flat() { # COUNT [TAG]
    local c=$1 tag=${2:-} dir cols cfg
    dir=$work/data-$c
    cfg=$work/flat$tag/dray.yml
    generate flat "$c"
    cols=$(meta "$dir/flat.meta" ROOT_COLS)
    warm "$dir/flat.csv" "$dir/flat.jsonl"

    fresh_schema base_flat
    create_table base_flat.orders "$cols"
    copy_csv "flat-copy$tag" base_flat.orders "$dir/flat.csv"
    count_is base_flat.orders "$c" "\\copy csv"
    took "flat-copy$tag" "$c"
    if [ -z "$tag" ]; then # binary COPY of psql's own export
        q "\\copy base_flat.orders to '$work/flat.bin' with (format binary)"
        fresh_schema base_flatb
        create_table base_flatb.orders "$cols"
        copy_binary flat-copybin base_flatb.orders "$work/flat.bin"
        count_is base_flatb.orders "$c" "\\copy binary"
        took flat-copybin "$c"
        rm -f "$work/flat.bin"
        q "drop schema base_flatb cascade"
    fi
    [ "$baselines_only" = 0 ] || return 0

    write_config "$work/flat$tag" append bench_flat
    q "drop schema if exists bench_flat cascade"
    dray_put "flat-put$tag" "$cfg" "$dir/flat.jsonl"
    dray_run "flat-run$tag" "$cfg"
    count_is bench_flat.orders "$c" "dray run --once (flat)"
    same_shape bench_flat.orders base_flat.orders
    same_data bench_flat.orders base_flat.orders "$cols" "flat append"
    took "flat-run$tag" "$c"
    q "drop schema bench_flat cascade"
}

# After bench_flat: checks against its baseline table, then drops it.
bench_target() { # COUNT
    local c=$1 dir cols
    dir=$work/data-$c
    cols=$(meta "$dir/flat.meta" ROOT_COLS)
    if [ "$baselines_only" = 0 ]; then
        warm "$dir/flat.jsonl"
        write_config "$work/e2e" append bench_e2e
        q "drop schema if exists bench_e2e cascade"
        dray_target e2e "$work/e2e/dray.yml" "$dir/flat.jsonl"
        count_is bench_e2e.orders "$c" "dray target"
        same_data bench_e2e.orders base_flat.orders "$cols" "dray target"
        took e2e "$c"
        q "drop schema bench_e2e cascade"
    fi
    q "drop schema base_flat cascade"
}

bench_upsert() { # COUNT
    local c=$1 dir cols keys
    dir=$work/data-$c
    generate upsert "$c"
    cols=$(meta "$dir/upsert.meta" ROOT_COLS)
    keys=$(meta "$dir/upsert.meta" KEYS)
    warm "$dir/upsert.csv" "$dir/upsert.jsonl"

    fresh_schema base_up
    create_table base_up.orders "$cols" id
    copy_merge up-merge base_up.orders "$cols" "$dir/upsert.csv"
    count_is base_up.orders "$keys" "COPY + INSERT ON CONFLICT"
    took up-merge "$c"

    if [ "$baselines_only" = 0 ]; then
        write_config "$work/up" upsert bench_up
        q "drop schema if exists bench_up cascade"
        dray_put up-put "$work/up/dray.yml" "$dir/upsert.jsonl"
        dray_run up-run "$work/up/dray.yml"
        count_is bench_up.orders "$keys" "dray run --once (upsert)"
        same_shape bench_up.orders base_up.orders
        same_data bench_up.orders base_up.orders "$cols" "upsert"
        took up-run "$c"
        q "drop schema bench_up cascade"
    fi
    q "drop schema base_up cascade"
}

bench_nested() { # COUNT [TAG]
    local c=$1 tag=${2:-} dir cols icols items cfg
    dir=$work/data-$c
    cfg=$work/nest$tag/dray.yml
    generate nested "$c"
    cols=$(meta "$dir/nested.meta" ROOT_COLS)
    icols=$(meta "$dir/nested.meta" ITEM_COLS)
    items=$(meta "$dir/nested.meta" ITEMS)
    warm "$dir/nested.csv" "$dir/nested_items.csv" "$dir/nested.jsonl"

    fresh_schema base_nest
    create_table base_nest.orders "$cols"
    create_table base_nest.orders__items "$icols"
    copy_nested "nest-copy$tag" base_nest.orders "$dir/nested.csv" \
        base_nest.orders__items "$dir/nested_items.csv"
    count_is base_nest.orders "$c" "\\copy (nested parent)"
    count_is base_nest.orders__items "$items" "\\copy (nested child)"
    took "nest-copy$tag" "$c"

    if [ "$baselines_only" = 0 ]; then
        write_config "$work/nest$tag" append bench_nest
        q "drop schema if exists bench_nest cascade"
        dray_put "nest-put$tag" "$cfg" "$dir/nested.jsonl"
        dray_run "nest-run$tag" "$cfg"
        count_is bench_nest.orders "$c" "dray run --once (nested parent)"
        count_is bench_nest.orders__items "$items" \
            "dray run --once (nested child)"
        same_shape bench_nest.orders base_nest.orders
        same_shape bench_nest.orders__items base_nest.orders__items
        same_data bench_nest.orders base_nest.orders "$cols" "nested parent"
        same_data bench_nest.orders__items base_nest.orders__items "$icols" \
            "nested child"
        took "nest-run$tag" "$c"
        q "drop schema bench_nest cascade"
    fi
    q "drop schema base_nest cascade"
}

# The report lines of one size.
summary() { # COUNT [TAG]
    local c=$1 tag=${2:-} at=""
    [ -z "$tag" ] || at=" at $(short "$c")"
    local d=$work/data-$c line
    line="$(short "$c"): nested $c orders"
    line+=" + $(meta "$d/nested.meta" ITEMS) orders__items rows"
    [ ! -f "$d/upsert.meta" ] ||
        line+=", upsert $(meta "$d/upsert.meta" KEYS) distinct ids"
    sizes+=("$line")
    if [ "$baselines_only" = 1 ]; then
        baseline "flat, \\copy csv" "$c" flat-copy
        baseline "flat, \\copy binary" "$c" flat-copybin
        baseline "upsert, COPY+ON CONFLICT" "$c" up-merge
        baseline "nested, \\copy parent+child" "$c" nest-copy
        return 0
    fi
    compare "flat append, run --once$at" "$c" "flat-run$tag" \
        "\\copy csv" "flat-copy$tag"
    if [ -z "$tag" ]; then
        compare "flat append, run --once" "$c" flat-run \
            "\\copy binary" flat-copybin
        compare "flat append, target (end to end)" "$c" e2e \
            "\\copy csv" flat-copy
        compare "upsert 30% repeats, run --once" "$c" up-run \
            "COPY+ON CONFLICT" up-merge
    fi
    compare "nested, run --once$at" "$c" "nest-run$tag" \
        "\\copy parent+child" "nest-copy$tag"

    note_rss "put (flat$at)" "flat-put$tag"
    note_rss "run --once (flat$at)" "flat-run$tag"
    [ -n "$tag" ] || note_rss "target (flat)" e2e
    [ -n "$tag" ] || note_rss "run --once (upsert)" up-run
    note_rss "put (nested$at)" "nest-put$tag"
    note_rss "run --once (nested$at)" "nest-run$tag"
}

drop_data() { # COUNT: big data sets are large; keep them only in WORK
    [ "$keep_work" = 1 ] || rm -rf "$work/data-$1"
}

report() {
    local line
    echo
    about_dray
    echo "PostgreSQL $(q 'show server_version'), $(about_cpus)"
    local batches="dray's defaults"
    [ -z "$batch" ] || batches="max_records=$batch"
    echo "N=$n records, batches: $batches, best of $repeat;" \
        "rows/s counts Singer records (nested: parents)"
    for line in "${sizes[@]}"; do echo "$line"; done
    echo
    for line in "${results[@]}"; do echo "$line"; done
    [ ${#rss[@]} -gt 0 ] || return 0
    echo
    echo "peak RSS (VmHWM, sampled every 50 ms; worker = dray __worker):"
    for line in "${rss[@]}"; do echo "$line"; done
}

main() {
    local round
    [ -x "$dray" ] || die "no dray at $dray (build it, or set BUILD)"
    [ -f "$plugin" ] || [ "$baselines_only" = 1 ] ||
        die "no PostgreSQL plugin at $plugin (build it)"
    command -v psql >/dev/null || die "psql is not installed"
    case $n$repeat in '' | *[!0-9]*) die "N and REPEAT must be numbers" ;; esac
    setup_work pg
    chmod 755 "$work" # the server runs as postgres when we are root
    start_server
    say "work in $work, PostgreSQL on $PGHOST:$PGPORT"

    for ((round = 1; round <= repeat; round++)); do
        [ "$repeat" = 1 ] || say "round $round of $repeat"
        bench_flat "$n"
        bench_target "$n"
        bench_upsert "$n"
        bench_nested "$n"
    done
    summary "$n"
    if [ "$big" = 1 ]; then
        for ((round = 1; round <= repeat; round++)); do
            bench_flat "$big_n" -big
            bench_nested "$big_n" -big
        done
        summary "$big_n" -big
        drop_data "$big_n"
    fi
    report
}

main "$@"
