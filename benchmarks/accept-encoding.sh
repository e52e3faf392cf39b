#!/usr/bin/env bash
# What a browser's Accept-Encoding costs: companion (release build, access log on) on core 0
# serves a 2 KiB PNG, a 1 KiB HTML page and a 404 to wrk -c64 on core 1, with no
# Accept-Encoding and with the one browsers send ("gzip, deflate, br, zstd"). Prints req/s
# and the server's CPU time a request. The PNG and the 404 are never encoded, so both
# columns should match; the page is gzip-encoded for the browser (from the cache).
# Usage: benchmarks/accept-encoding.sh [seconds] [rounds]   (needs wrk and taskset)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-2}
swift build -c release --product companion 2>&1 | tail -n 1
work=$(mktemp -d)
server=""
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
mkdir -p "$work/a"
head -c 2048 /dev/urandom > "$work/a/img.png"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/a/index.html"
port=18141
printf '{"listen":"127.0.0.1:%s","workers":1,"sites":[{"host":"a.test","root":"%s/a","gzip":true}],"accessLog":{"sqlite":"%s/access.sqlite"}}\n' \
  "$port" "$work" "$work" > "$work/config.json"
printf 'wrk.headers["Host"] = "a.test"\n' > "$work/plain.lua"
printf 'wrk.headers["Host"] = "a.test"\nwrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"\n' > "$work/browser.lua"

run() {   # run LUA PATH: one fresh server, one wrk run; prints "req/s us-a-request"
  rm -f "$work"/access.sqlite*
  taskset -c 0 .build/release/companion serve --config "$work/config.json" > "$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do grep -q ready "$work/server.log" 2>/dev/null && break; sleep 0.1; done
  local before after requests
  before=$(awk '{print $14 + $15}' "/proc/$server/stat")
  requests=$(taskset -c 1 wrk -t1 -c64 -d"${seconds}s" -s "$1" "http://127.0.0.1:$port$2" | awk '/Requests\/sec/ {print $2}')
  after=$(awk '{print $14 + $15}' "/proc/$server/stat")
  kill -INT "$server"; wait "$server" || true; server=""
  awk -v r="$requests" -v t=$((after - before)) -v s="$seconds" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%9.0f req/s %5.2f us", r, t / hz * 1e6 / (r * s) }'
}

printf '%-12s %-32s %-32s\n' path "no Accept-Encoding" "a browser's Accept-Encoding"
for _ in $(seq 1 "$rounds"); do
  for path in /img.png /index.html /missing.html; do
    printf '%-12s %-32s %-32s\n' "$path" "$(run "$work/plain.lua" "$path")" "$(run "$work/browser.lua" "$path")"
  done
done
