#!/bin/bash
# The public headers of the ABI and of the net library compile alone, as C99, C11 and C++11, pedantic, with
# every warning an error: vendors include them from any kind of project.
set -eu
inc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
for h in dray_version.h dray_abi.h dray_plugin.h dray_http.h dray_aws.h \
         dray_s3.h dray_cfg.h; do
  printf '#include <dray/%s>\n#include <dray/dray_version.h>\nint dray_probe(void);\nint dray_probe(void) { return DRAY_ABI_MAJOR; }\n' \
    "$h" > "$tmp/probe.c"
  cp "$tmp/probe.c" "$tmp/probe.cpp"
  for cmd in "cc -std=c99" "cc -std=c11" "c++ -std=c++11 -x c++"; do
    src=$tmp/probe.c
    case $cmd in c++*) src=$tmp/probe.cpp ;; esac
    if $cmd -pedantic -Wall -Wextra -Werror -I"$inc" -c "$src" -o "$tmp/probe.o"; then
      passed=$((passed + 1))
    else
      echo "FAIL: $h with $cmd"
      failed=$((failed + 1))
    fi
  done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
