#!/usr/bin/env bash
# "No scenario slower than before": the shared harness twice, with the release build of REV
# (built in a git worktree under .build-before/) and with this checkout's, each beside nginx
# and lighttpd, then compare.py on companion's same-run ratios to nginx in the two runs.
# Usage: benchmarks/before-after.sh REV [extra run.py arguments, e.g. --repeat 2 --duration 5]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: benchmarks/before-after.sh REV [run.py arguments]}
shift
bash ../shared/bench/setup.sh >/dev/null
before=.build-before/tree
if [ ! -d "$before" ]; then git worktree add -f "$before" "$rev" >/dev/null; fi
git -C "$before" checkout -q --detach "$rev"
(cd "$before" && swift build -c release --product companion 2>&1 | tail -n 1)
swift build -c release --product companion 2>&1 | tail -n 1
mkdir -p benchmarks/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
scenarios=small,small-c1,close,gzip-js,gzip-css,bin-1m,big-64m,listing,notfound,vhost-b
for side in before after; do
  binary=.build/release/companion
  [ "$side" = before ] && binary="$before/.build/release/companion"
  echo "== $side ($binary)"
  python3 ../shared/bench/run.py --servers nginx,lighttpd --companion "$binary serve --config {config}" \
    --scenarios "$scenarios" --ratio-to nginx --json "benchmarks/results/$stamp-$side.json" "$@" \
    > "benchmarks/results/$stamp-$side.txt"
  tail -n 40 "benchmarks/results/$stamp-$side.txt"
done
python3 ../shared/bench/compare.py "benchmarks/results/$stamp-before.json" "benchmarks/results/$stamp-after.json" \
  --ratio-to nginx | tee "benchmarks/results/$stamp-compare.txt"
