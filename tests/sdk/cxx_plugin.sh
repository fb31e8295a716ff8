#!/bin/bash
# A C++ plugin builds against the SDK headers and library, exports the
# entry point unmangled, and dray loads it. (g++ warns about members a
# designated initialiser leaves out even where C does not; that is noise.)
set -u
build=$1 src=$2 sanitize=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
# shellcheck disable=SC2086 # $sanitize is a list of flags
if c++ -std=c++20 -Wall -Wextra -Wno-missing-field-initializers -Werror -fPIC -shared -fvisibility=hidden \
     $sanitize -I"$src/sdk/include" "$src/tests/sdk/cxx_plugin.cpp" \
     "$build/lib/libdray_sdk.a" -ljansson -lz \
     -Wl,--version-script="$src/sdk/cmake/dray_plugin.map" \
     -Wl,-z,defs -Wl,-z,now -o "$tmp/cxx.so" 2>"$tmp/cc.log"; then
  passed=$((passed + 1))
else
  cat "$tmp/cc.log"; echo "FAIL: the C++ plugin does not build"
  failed=$((failed + 1))
fi
if nm -D --defined-only "$tmp/cxx.so" 2>/dev/null | grep -qw dray_plugin_entry_v1; then
  passed=$((passed + 1))
else
  echo "FAIL: dray_plugin_entry_v1 is not exported unmangled"
  failed=$((failed + 1))
fi
out=$(DRAY_PLUGIN_PATH=$tmp "$build/bin/dray" plugins --json)
if python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)["plugins"] if p["name"] == "cxx"]
sys.exit(0 if p and p[0]["status"] == "ok" else 1)' <<<"$out"; then
  passed=$((passed + 1))
else
  echo "FAIL: dray does not load the C++ plugin:"; echo "$out"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
