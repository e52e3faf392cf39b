#!/usr/bin/env bash
# The heavy hostile-client runs, against the release build (swift test holds the fast ones):
#   1. idle_connections.py: 5,000 idle keep-alive connections, 3 rounds: under 2 KB each,
#      RSS back within 8 MiB of the baseline after they close;
#   2. slowhttptest (Debian): slowloris heads (-H), slow bodies (-B) and slow readers (-X),
#      500 connections each for 20 s, while its probe checks that the site stays available.
# Each step is bounded in time; the server's output goes to a file, never to this shell.
#   Tests/hostile/run.sh            (installs slowhttptest with apt-get when missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v slowhttptest >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slowhttptest; }
swift build -c release >/dev/null
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/site"
printf '<!doctype html><title>home</title><p>hello</p>\n' > "$work/site/index.html"
head -c 200000 /dev/urandom | base64 > "$work/site/big.txt"
cat > "$work/config.json" <<JSON
{"listen": "127.0.0.1:0", "workers": 1, "sites": [{"host": "a.test", "root": "site", "default": true}],
 "accessLog": {"sqlite": "access.sqlite"},
 "limits": {"headerTimeoutMs": 5000, "idleTimeoutMs": 10000}}
JSON
(cd "$work" && exec "$OLDPWD/.build/release/companion" serve --config config.json >"$work/server.log" 2>&1) &
echo $! > "$work/pid"
port=""
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/server.log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.log"; exit 1; }
pid=$(cat "$work/pid")
status=0

echo "== idle connections (5,000, 3 rounds)"
python3 Tests/hostile/idle_connections.py --port "$port" --pid "$pid" --count 5000 --rounds 3 \
  --max-per-conn 2048 --max-left 8 || status=1

for mode in H B X; do
  echo "== slowhttptest -$mode (500 connections, 20 s)"
  extra=()
  [ "$mode" = X ] && extra=(-k 2 -n 5 -w 10 -y 20 -z 32 -u "http://127.0.0.1:$port/big.txt")
  [ "$mode" = X ] || extra=(-i 2 -u "http://127.0.0.1:$port/")
  timeout 60 slowhttptest -"$mode" -c 500 -r 200 -l 20 -p 3 "${extra[@]}" >"$work/slow-$mode.log" 2>&1 || true
  tail -n 12 "$work/slow-$mode.log" | grep -E "service available|Exit status" || true
  if grep -q "service available:.*NO" "$work/slow-$mode.log"; then
    echo "!! -$mode: the probe found the service unavailable"; status=1
  fi
done
kill -0 "$pid" || { echo "!! the server died"; status=1; }
exit $status
