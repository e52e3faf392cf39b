#!/usr/bin/env bash
# Serve the harness's config without its accessLog (for logging.sh).
set -euo pipefail
config=$1
stripped="${config%.json}-nolog.json"
python3 - "$config" "$stripped" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.pop("accessLog", None)
json.dump(c, open(sys.argv[2], "w"))
PY
exec "$(dirname "$0")/../.build/release/companion" serve --config "$stripped"
