#!/bin/bash
# A vendor's view of the SDK: install the build into a fresh prefix, build
# examples/plugin-hello out of tree against it with the three CMake lines
# (and once more with pkg-config alone), and have the installed dray load
# the result from DRAY_PLUGIN_PATH, from plugin_path and from its own
# plugin folder.
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

# jq-free JSON probe: the status of plugin NAME in "dray plugins --json".
plugin_status() { # plugin_status NAME < json
  python3 -c '
import json, sys
name = sys.argv[1]
for p in json.load(sys.stdin)["plugins"]:
    if p["name"] == name:
        print(p["status"], p["file"]); break
' "$1"
}

if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  echo "0 passed, 1 failed"
  exit 1
fi

# The installed layout, literally.
for f in bin/dray include/dray/dray_abi.h include/dray/dray_plugin.h \
         include/dray/dray_version.h lib/libdray_sdk.a \
         lib/pkgconfig/dray-sdk.pc lib/cmake/DraySDK/DraySDKConfig.cmake \
         lib/cmake/DraySDK/DraySDKConfigVersion.cmake; do
  check "installed $f" test -f "$prefix/$f"
done
check "installed lib/dray/plugins/" test -d "$prefix/lib/dray/plugins"
check "no test plugin installed" \
  test -z "$(find "$prefix" -name 'echo.so' -o -name 'twin_*.so' -o -name 'noentry.so')"
check "no internal header installed" \
  test -z "$(find "$prefix/include" -name '*.h' ! -path '*/include/dray/*')"

# The three lines.
if cmake -S "$src/examples/plugin-hello" -B "$tmp/hello" \
     -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$sanitize" \
     -DCMAKE_MODULE_LINKER_FLAGS="$sanitize" >"$tmp/hello.log" 2>&1 &&
   cmake --build "$tmp/hello" >>"$tmp/hello.log" 2>&1; then
  ok
else
  cat "$tmp/hello.log"; fail "plugin-hello builds out of tree"
fi
so=$tmp/hello/hello.so
check "hello.so has no lib prefix" test -f "$so"

# Exactly one exported symbol: the entry point.
exports=$(nm -D --defined-only "$so" 2>/dev/null | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort | tr '\n' ' ')
check "hello.so exports only the entry (got: $exports)" \
  test "$exports" = "dray_plugin_entry_v1 "

out=$(DRAY_PLUGIN_PATH=$tmp/hello "$prefix/bin/dray" plugins --json)
check "DRAY_PLUGIN_PATH finds hello" \
  test "$(plugin_status hello <<<"$out")" = "ok $so"

mkdir -p "$tmp/cfg" "$tmp/out"
cat >"$tmp/cfg/dray.yml" <<YAML
plugin_path: [../hello]
destinations:
  - name: files
    plugin: hello
    options: {path: "$tmp/out"}
YAML
if "$prefix/bin/dray" check -c "$tmp/cfg/dray.yml" >"$tmp/check.log" 2>&1; then
  ok
else
  cat "$tmp/check.log"; fail "dray check accepts hello from plugin_path"
fi
out=$("$prefix/bin/dray" plugins -c "$tmp/cfg/dray.yml" --json)
check "plugin_path finds hello" \
  test "$(plugin_status hello <<<"$out")" = "ok $so"

cp "$so" "$prefix/lib/dray/plugins/"
out=$("$prefix/bin/dray" plugins --json)
check "the installed dray finds its own plugin folder" \
  test "$(plugin_status hello <<<"$out")" = "ok $prefix/lib/dray/plugins/hello.so"
rm "$prefix/lib/dray/plugins/hello.so"

# pkg-config alone is enough too.
mkdir -p "$tmp/pc"
# shellcheck disable=SC2086 # $sanitize is a list of flags
if PKG_CONFIG_PATH=$prefix/lib/pkgconfig cc -shared -fPIC -std=c11 $sanitize \
     -D_POSIX_C_SOURCE=200809L \
     $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags dray-sdk) \
     "$src/examples/plugin-hello/hello.c" -o "$tmp/pc/hello.so" \
     $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --libs dray-sdk) \
     -Wl,--version-script="$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --variable=plugin_version_script dray-sdk)" \
     -Wl,-z,defs -Wl,-z,now \
     2>"$tmp/pc.log"; then
  out=$(DRAY_PLUGIN_PATH=$tmp/pc "$prefix/bin/dray" plugins --json)
  check "a pkg-config build loads" \
    test "$(plugin_status hello <<<"$out")" = "ok $tmp/pc/hello.so"
else
  cat "$tmp/pc.log"; fail "hello builds with pkg-config"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
