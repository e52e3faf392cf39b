#!/usr/bin/env bash
# Nothing lost under load: serve a 1 KiB file to wrk (64 connections, server on
# one core, wrk on the other), stop the server with SIGTERM, then compare the rows
# in the access log with the responses wrk read. Rows may exceed wrk's count by at
# most the number of connections (responses in flight when wrk stopped reading)
# plus the one answered readiness probe; fewer rows than responses means rows were lost.
# Usage: benchmarks/rows.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
swift build -c release --product companion 2>&1 | tail -n 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/a/index.html"
port=18097
printf '{"listen":"127.0.0.1:%s","sites":[{"host":"a.test","root":"%s/a"}],"accessLog":{"sqlite":"%s/access.sqlite"}}\n' \
  "$port" "$work" "$work" > "$work/config.json"
taskset -c 0 .build/release/companion serve --config "$work/config.json" 2>"$work/server.log" &
server=$!
# Readiness: the first answered probe (refused connections make no row) is one row.
until curl -s -o /dev/null -H 'Host: a.test' "http://127.0.0.1:$port/index.html"; do sleep 0.1; done
requests=$(taskset -c 1 wrk -t1 -c64 -d"${seconds}s" -H 'Host: a.test' "http://127.0.0.1:$port/index.html" \
  | awk '/requests in/ {print $1}')
kill -TERM "$server"
wait "$server"
rows=$(sqlite3 "$work/access.sqlite" 'SELECT COUNT(*) FROM requests')
extra=$((rows - requests - 1))
echo "wrk read $requests responses (+1 readiness probe answered); access log rows: $rows; extra rows: $extra (0..64 expected)"
if [ "$extra" -lt 0 ] || [ "$extra" -gt 64 ]; then echo "MISMATCH"; exit 1; fi
