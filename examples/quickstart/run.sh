#!/bin/bash
# README command (1): build dray, check the quickstart config, take a tap's
# output (shop.jsonl) into the spool and load it with the S3 plugin into a
# local folder (examples/quickstart/out), then show what was written. No
# server to start.
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" >/dev/null

config=examples/quickstart/dray.yml
export DRAY_QUICKSTART_OUT="$PWD/examples/quickstart/out"
run() {
  echo "\$ dray $*"
  build/bin/dray "$@"
  echo
}
run plugins -c "$config"
run check -c "$config"
run put -c "$config" --integration shop examples/quickstart/shop.jsonl
run state -c "$config" --integration shop
run run -c "$config" --once
run status -c "$config"

echo "Loaded into $DRAY_QUICKSTART_OUT:"
(cd "$DRAY_QUICKSTART_OUT" && find . -path ./.dray-tmp -prune -o -type f -print | sort)
first=$(cd "$DRAY_QUICKSTART_OUT" && find shop/orders -type f | sort | tail -n 1)
echo
echo "$DRAY_QUICKSTART_OUT/$first:"
cat "$DRAY_QUICKSTART_OUT/$first"
