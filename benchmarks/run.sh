#!/usr/bin/env bash
# companion vs nginx and lighttpd on the shared harness; ratios to nginx.
# Usage: benchmarks/run.sh [scenarios] [extra run.py arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=${1:-small,small-c1,close,gzip-js,gzip-css,bin-1m,big-64m,listing,notfound,vhost-b}
shift || true
bash ../shared/bench/setup.sh >/dev/null
swift build -c release --product companion 2>&1 | tail -n 1
mkdir -p benchmarks/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 ../shared/bench/run.py --servers nginx,lighttpd \
  --companion ".build/release/companion serve --config {config}" \
  --scenarios "$scenarios" --ratio-to nginx \
  --json "benchmarks/results/$stamp.json" "$@" | tee "benchmarks/results/$stamp.txt"
