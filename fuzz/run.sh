#!/usr/bin/env bash
# Builds companion's libFuzzer targets (fuzz/targets/ with CompanionCore's sources, one
# binary, -sanitize=fuzzer,address) and runs each for SECONDS (default 30) on its seed
# corpus in fuzz/corpus/TARGET. New inputs go to .build-fuzz/corpus/TARGET, crashes to
# .build-fuzz/crashes/. Exit status 1 when any target found a crash or a broken property.
#   fuzz/run.sh [SECONDS] [TARGET...]      e.g. fuzz/run.sh 1800 parser
# FUZZ_RUNS=N also stops a target after N executions (the long run: FUZZ_RUNS=10000000
# fuzz/run.sh 1800, whichever comes first); FUZZ_OUT=DIR builds and writes elsewhere, so a
# long run in the background and a short one do not share a binary.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(parser path range config escape acme proxy histogram accept smaps conditional auth host percent)
out=${FUZZ_OUT:-.build-fuzz}
runs=${FUZZ_RUNS:--1}
mkdir -p "$out/crashes"
binary="$out/companion-fuzz"
sources=$(find Sources/CompanionCore fuzz/targets -name '*.swift' | sort)
if [ ! -x "$binary" ] || [ -n "$(find $sources -newer "$binary" | head -n 1)" ]; then
  echo "== building $binary (about 2 minutes)"
  # shellcheck disable=SC2086
  swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 -package-name companion \
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility \
    -module-name CompanionFuzz -I Sources/CLinux -I Sources/CSQLite -I Sources/CZlib -I Sources/CSSL -I Sources/CPostgres -I Sources/CBrotli -I Sources/CZstd \
    $(pkg-config --cflags-only-I libpq | sed "s/-I/-Xcc -I/g") \
    $sources -lsqlite3 -lz -lcrypt -lssl -lcrypto -lpq -lbrotlienc -lzstd -o "$binary" >"$out/build.log" 2>&1 || { tail -n 40 "$out/build.log"; exit 1; }
  # The linker's notes about ASan's local symbols are noise; Swift warnings are not.
  if grep -E "^[^ ]*\.swift:[0-9]+:[0-9]+: warning:" "$out/build.log"; then echo "fuzz build: compiler warnings"; exit 1; fi
fi
status=0
for target in "${targets[@]}"; do
  mkdir -p "$out/corpus/$target"
  echo "== $target: ${seconds}s"
  # SWIFT_BACKTRACE off: the Swift backtracer and ASan's handler together hang on a crash.
  if ! FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
      "$binary" -max_total_time="$seconds" -runs="$runs" -max_len=4096 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$out/crashes/$target-" "$out/corpus/$target" "fuzz/corpus/$target" \
      >"$out/$target.log" 2>&1; then
    echo "!! $target: failed; see $out/$target.log and $out/crashes/"
    grep -E "Fatal error|ERROR:|SUMMARY" "$out/$target.log" | head -n 5 || true
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$out/$target.log" | tr '\n' ' ' || true
  echo
done
exit $status
