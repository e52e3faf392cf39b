#!/usr/bin/env bash
# The whole suite under ThreadSanitizer and AddressSanitizer (each in its own build folder).
# TSan: any report fails the run (halt_on_error). ASan: memory errors fail it; LeakSanitizer
# runs too, with Tests/sanitizers/lsan.supp for what Foundation, XCTest, libdispatch and the
# test helpers keep until exit.
#   Tests/sanitizers/run.sh [thread|address]...     (default: both)
set -euo pipefail
cd "$(dirname "$0")/../.."
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(thread address)
status=0
for kind in "${kinds[@]}"; do
  folder=".build-${kind:0:1}san"
  mkdir -p "$folder"
  log="$folder/sanitizer-run.log"
  echo "== swift test --sanitize=$kind (build folder $folder, output in $log)"
  if ! swift build --build-tests --sanitize="$kind" --scratch-path "$folder" >"$log" 2>&1; then
    tail -n 40 "$log"; status=1; continue
  fi
  if COMPANION_SANITIZER="$kind" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
     ASAN_OPTIONS="detect_leaks=1" \
     LSAN_OPTIONS="suppressions=$PWD/Tests/sanitizers/lsan.supp:print_suppressions=0" \
     swift test --sanitize="$kind" --scratch-path "$folder" --skip-build >>"$log" 2>&1; then
    grep -E "^✔ Test run|Test run with" "$log" | tail -n 1
  else
    grep -E "WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY|^✘ Test" "$log" | head -n 30
    status=1
  fi
done
exit $status
