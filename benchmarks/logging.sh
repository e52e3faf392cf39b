#!/usr/bin/env bash
# Access log on vs off in the same run: small-file req/s ratio (target ≥ 0.9)
# and rows counted by the harness (target: every answered request).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product companion 2>&1 | tail -n 1
mkdir -p benchmarks/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 ../shared/bench/run.py --servers nginx \
  --companion ".build/release/companion serve --config {config}" \
  --scenarios "${1:-small,notfound,vhost-b}" --ratio-to nginx \
  --json "benchmarks/results/$stamp-log-on.json" "${@:2}" | tee "benchmarks/results/$stamp-log-on.txt"
python3 ../shared/bench/run.py --servers nginx \
  --companion "bash benchmarks/nolog.sh {config}" \
  --scenarios "${1:-small,notfound,vhost-b}" --ratio-to nginx \
  --json "benchmarks/results/$stamp-log-off.json" "${@:2}" | tee "benchmarks/results/$stamp-log-off.txt"
python3 ../shared/bench/compare.py "benchmarks/results/$stamp-log-on.json" "benchmarks/results/$stamp-log-off.json" --ratio-to nginx
