#!/bin/bash
# Configure stops on a missing dependency and names the Debian package.
set -u
src=$1
passed=0 failed=0
for pair in jansson:libjansson-dev ltdl:libltdl-dev yaml:libyaml-dev \
            pq:libpq-dev curl:libcurl4-openssl-dev odbc:unixodbc-dev \
            openssl:libssl-dev zlib:zlib1g-dev; do
  dep=${pair%%:*} pkg=${pair#*:}
  tmp=$(mktemp -d)
  if out=$(cmake -S "$src" -B "$tmp" -DDRAY_PRETEND_MISSING="$dep" 2>&1); then
    echo "FAIL: configure succeeded without $dep"
    failed=$((failed + 1))
  elif grep -q "Install it with: apt-get install $pkg" <<<"$out"; then
    passed=$((passed + 1))
  else
    echo "FAIL: no 'apt-get install $pkg' in the output for $dep:"
    echo "$out" | tail -20
    failed=$((failed + 1))
  fi
  rm -rf "$tmp"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
