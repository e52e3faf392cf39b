#!/usr/bin/env bash
# The PostgreSQL access-log sink under load (issue 11): small-file req/s with the log off,
# with the SQLite file, and with PostgreSQL only, interleaved, REPEAT rounds; then every
# answered request must be a row in PostgreSQL, and the rows/s the writer sustained.
# Server on core 0, wrk on core 1; PostgreSQL (a throwaway cluster on a Unix socket)
# runs where the scheduler puts it, as a database on the same box would, so it takes CPU
# from one of the two; companion's own CPU per response (all its threads) is reported too,
# which is what a server whose database is on another machine would see.
# Usage: benchmarks/postgres.sh [seconds] [repeat]     (run it as root or as a user that can run initdb)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
repeat=${2:-3}
swift build -c release --product companion 2>&1 | tail -n 1
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
work=$(mktemp -d /tmp/companion-pgbench.XXXXXX)
as=()
if [ "$(id -u)" = 0 ]; then chown postgres "$work"; as=(runuser -u postgres --); fi
"${as[@]}" "$bin/initdb" -D "$work/data" -A trust -U postgres --no-sync >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/pg.log" -o "-k $work -c listen_addresses='' -p 5432" -w start >/dev/null
url="postgresql://postgres@/postgres?host=$work&port=5432"
cleanup() { "${as[@]}" "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/a"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/a/index.html"
port=18098
run() {   # $1 = off | sqlite | postgres
  case $1 in
    off) log='' ;;
    sqlite) log=",\"accessLog\":{\"sqlite\":\"$work/access.sqlite\"}" ;;
    postgres) log=",\"accessLog\":{\"postgres\":\"$url\",\"hostName\":\"bench\"}" ;;
  esac
  printf '{"listen":"127.0.0.1:%s","sites":[{"host":"a.test","root":"%s/a"}]%s}\n' "$port" "$work" "$log" > "$work/config.json"
  taskset -c 0 .build/release/companion serve --config "$work/config.json" 2>"$work/server.log" &
  server=$!
  until curl -s -o /dev/null -H 'Host: a.test' "http://127.0.0.1:$port/index.html"; do sleep 0.1; done
  t0=$(awk '{print $14 + $15}' "/proc/$server/stat")
  out=$(taskset -c 1 wrk -t1 -c64 -d"${seconds}s" -H 'Host: a.test' "http://127.0.0.1:$port/index.html")
  t1=$(awk '{print $14 + $15}' "/proc/$server/stat")
  kill -TERM "$server"; wait "$server"
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  # companion's own CPU (all its threads, the log writer included) per response, in µs
  cpu=$(python3 -c "print(round(($t1 - $t0) / $(getconf CLK_TCK) * 1e6 / $requests, 2))")
  echo "$1 $rps $requests $cpu"
}
declare -A sum cpusum
rowsBefore=0
for round in $(seq "$repeat"); do
  for mode in off sqlite postgres; do
    read -r name rps requests cpu < <(run "$mode")
    echo "round $round: $name ${rps} req/s ($requests responses), companion CPU ${cpu} µs per response"
    sum[$name]=$(python3 -c "print(${sum[$name]:-0} + $rps)")
    cpusum[$name]=$(python3 -c "print(${cpusum[$name]:-0} + $cpu)")
    if [ "$name" = postgres ]; then
      rows=$(psql "$url" -XAt -c 'SELECT count(*) FROM requests')
      new=$((rows - rowsBefore)); rowsBefore=$rows
      extra=$((new - requests - 1))
      span=$(psql "$url" -XAt -c "SELECT round(extract(epoch FROM max(time) - min(time))::numeric, 2) FROM requests WHERE id > (SELECT max(id) FROM requests) - $new")
      echo "  postgres rows: $new for $requests responses (+1 readiness probe; extra $extra, 0..64 expected); $(python3 -c "print(round($new / max($span, 0.001)))") rows/s over $span s"
      if [ "$extra" -lt 0 ] || [ "$extra" -gt 64 ]; then echo "  MISMATCH: rows lost"; fi
    fi
  done
done
python3 - "${sum[off]}" "${sum[sqlite]}" "${sum[postgres]}" "${cpusum[off]}" "${cpusum[sqlite]}" "${cpusum[postgres]}" "$repeat" <<'PY'
import sys
off, sqlite, pg, coff, csql, cpg, n = map(float, sys.argv[1:])
print(f"mean req/s: log off {off/n:,.0f}, sqlite {sqlite/n:,.0f} ({sqlite/off:.2f}x), postgres {pg/n:,.0f} ({pg/off:.2f}x)")
print(f"companion CPU per response: log off {coff/n:.2f} µs, sqlite {csql/n:.2f} µs ({coff/csql:.2f}x the requests per CPU-second), "
      f"postgres {cpg/n:.2f} µs ({coff/cpg:.2f}x)")
PY
