#!/usr/bin/env bash
# The main job: see hack/demo/run.ts. Flags: --keep (leave everything running to explore).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/controlplane-env.sh"
exec node "$here/../dist/hack/demo/run.js" "$@"
