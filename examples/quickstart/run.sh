#!/bin/bash
# README command (1): build dray, install its SDK into build/stage, build
# the example plugin out of tree against it, check the quickstart config,
# take a tap's output (shop.jsonl) into the spool and load it into the
# example destination (JSON-lines files under examples/quickstart/out). No
# server to start.
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" >/dev/null
cmake --install build --prefix "$PWD/build/stage" >/dev/null
cmake -S examples/plugin-hello -B build/examples/plugin-hello \
  -DCMAKE_PREFIX_PATH="$PWD/build/stage" >/dev/null
cmake --build build/examples/plugin-hello >/dev/null

config=examples/quickstart/dray.yml
mkdir -p examples/quickstart/out
echo "\$ dray plugins -c $config"
build/bin/dray plugins -c "$config"
echo
echo "\$ dray check -c $config"
build/bin/dray check -c "$config"

echo
echo "\$ dray put -c $config --integration shop examples/quickstart/shop.jsonl"
build/bin/dray put -c "$config" --integration shop examples/quickstart/shop.jsonl
echo
echo "\$ dray state -c $config --integration shop"
build/bin/dray state -c "$config" --integration shop
echo
echo
echo "\$ dray status -c $config"
build/bin/dray status -c "$config"
echo
echo "\$ dray run -c $config --once"
build/bin/dray run -c "$config" --once
echo
echo "\$ dray status -c $config"
build/bin/dray status -c "$config"
echo
echo "Loaded into examples/quickstart/out/:"
ls -R examples/quickstart/out/
