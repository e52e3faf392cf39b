#!/usr/bin/env bash
# Reloads under HTTPS load lose no request: wrk over HTTPS (keep-alive, and a new
# handshake per request) against the release build while SIGHUP arrives every 50 ms and
# the certificate file is replaced every second (a renewal). Fails when wrk reports a
# socket error or a non-2xx answer, or the server did not reload.
#   Tests/hostile/tls_reload_storm.sh [SECONDS]     (default 10 per wrk run)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
command -v wrk >/dev/null || bash ../shared/bench/setup.sh >/dev/null
swift build -c release >/dev/null
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/site"
head -c 1024 /dev/urandom | base64 > "$work/site/index.html"
python3 Tests/tls/make_certs.py "$work/pair0" a=a.test >/dev/null
python3 Tests/tls/make_certs.py "$work/pair1" a=a.test >/dev/null
mkdir -p "$work/certs" && cp "$work/pair0/a.pem" "$work/pair0/a.key" "$work/certs/"
cat > "$work/config.json" <<JSON
{"listen": {"address": "127.0.0.1:0", "tls": true}, "workers": 2,
 "sites": [{"host": "a.test", "root": "site", "tls": {"certificate": "certs/a.pem", "key": "certs/a.key"}}],
 "accessLog": {"sqlite": "access.sqlite"}}
JSON
(cd "$work" && exec "$OLDPWD/.build/release/companion" serve --config config.json >"$work/server.log" 2>&1) &
echo $! > "$work/pid"
port=""
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/server.log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.log"; exit 1; }
pid=$(cat "$work/pid")
storm() {
  local i=0
  while kill -0 "$pid" 2>/dev/null; do
    kill -HUP "$pid"
    i=$((i + 1))
    if [ $((i % 20)) -eq 0 ]; then   # every second: the other pair, renamed into place (a renewal)
      pair="$work/pair$(( (i / 20) % 2 ))"
      cp "$pair/a.key" "$work/certs/a.key.new" && cp "$pair/a.pem" "$work/certs/a.pem.new"
      mv "$work/certs/a.key.new" "$work/certs/a.key" && mv "$work/certs/a.pem.new" "$work/certs/a.pem"
    fi
    sleep 0.05
  done
}
status=0
for mode in keep-alive close; do
  header=()
  [ "$mode" = close ] && header=(-H "Connection: close")
  storm & storm_pid=$!
  out=$(wrk -t1 -c32 -d"${seconds}s" "${header[@]}" "https://127.0.0.1:$port/index.html")
  kill "$storm_pid" 2>/dev/null || true; wait "$storm_pid" 2>/dev/null || true
  requests=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
  echo "$mode: $requests requests; $(echo "$out" | grep -E 'Socket errors|Non-2xx' || echo 'no socket errors, no non-2xx')"
  echo "$out" | grep -qE 'Socket errors|Non-2xx' && status=1
done
reloads=$(grep -c "config reloaded" "$work/server.log" || true)
echo "reloads: $reloads"
[ "$reloads" -gt 10 ] || status=1
exit $status
