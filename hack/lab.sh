#!/usr/bin/env bash
# The network-namespace lab: `hack/lab.sh help` lists the commands (up, apply, probe, down,
# cleanup-stale, list). Needs root; builds the TypeScript first if dist/ is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$root/dist/hack/lab.js" ]; then
  (cd "$root" && npx tsc -p tsconfig.json)
fi
exec node "$root/dist/hack/lab.js" "$@"
