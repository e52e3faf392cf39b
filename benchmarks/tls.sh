#!/usr/bin/env bash
# companion vs nginx, lighttpd and caddy with every scenario over HTTPS (one ECDSA P-256
# certificate made by the harness; companion gets SPEC §6's config). Ratios to nginx.
# Usage: benchmarks/tls.sh [extra run.py arguments]     (default --repeat 3: ~30 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
bash ../shared/bench/setup.sh >/dev/null
swift build -c release --product companion 2>&1 | tail -n 1
mkdir -p benchmarks/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--repeat 3)
python3 ../shared/bench/run.py --tls --servers nginx,lighttpd,caddy \
  --companion ".build/release/companion serve --config {config}" --ratio-to nginx \
  --json "benchmarks/results/$stamp-tls.json" "${args[@]}" | tee "benchmarks/results/$stamp-tls.txt"
