#!/usr/bin/env bash
# Instructions per request for GET /index.html (1 KiB) under valgrind's callgrind:
# repeatable when wall-clock timings are noisy. Usage: benchmarks/callgrind.sh [seconds]
# Prints total instructions / requests and the top functions. Needs valgrind and wrk.
# BINARY=path measures another build (e.g. .build-before/tree/.build/release/companion);
# ACCESS_LOG=1 turns the SQLite access log on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
binary=${BINARY:-.build/release/companion}
[ -n "${BINARY:-}" ] || swift build -c release --product companion 2>&1 | tail -n 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/a/index.html"
port=18099
log=""
[ "${ACCESS_LOG:-0}" = 1 ] && log=",\"accessLog\":{\"sqlite\":\"$work/access.sqlite\"}"
printf '{"listen":"127.0.0.1:%s","workers":1,"sites":[{"host":"a.test","root":"%s/a"}]%s}\n' "$port" "$work" "$log" > "$work/config.json"
printf 'wrk.headers["Host"] = "a.test"\n' > "$work/host.lua"
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
  "$binary" serve --config "$work/config.json" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q ready "$work/server.log" 2>/dev/null && break; sleep 0.2; done
requests=$(wrk -t1 -c8 -d"${seconds}s" -s "$work/host.lua" "http://127.0.0.1:$port/index.html" \
  | awk '/requests in/ {print $1}')
kill -INT "$server"
wait "$server" || true
total=$(callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "requests: $requests  instructions: $total  per request: $((total / requests)) (start-up included)"
callgrind_annotate "$work/cg.out" 2>/dev/null | sed -n '/file:function/,$p' | head -n 25
