#!/usr/bin/env bash
# Stops what controlplane-up.sh started in STATE_DIR and removes its data.
set -uo pipefail
state="${1:?usage: controlplane-down.sh STATE_DIR}"
[ -d "$state" ] || exit 0
for c in kube-controller-manager kube-apiserver etcd; do
  f="$state/$c.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
done
[ "${KEEP_STATE:-}" = 1 ] || rm -rf "$state"
