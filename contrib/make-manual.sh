#!/usr/bin/env bash
# Writes the man page generated from the argument parser (swift-argument-parser's
# generate-manual plugin) to contrib/companion.1, or to $1. Dated with the release date
# of CompanionVersion, so the output changes only when the options or the version do.
# CI regenerates it and fails when the committed page is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-contrib/companion.1}"
date=$(sed -n 's/.*static let date = "\(.*\)".*/\1/p' Sources/CompanionCore/Version.swift)
swift package plugin generate-manual --date "$date" --configuration debug >/dev/null
cp .build/plugins/GenerateManual/outputs/companion/companion.1 "$out"
