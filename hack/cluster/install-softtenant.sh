#!/usr/bin/env bash
# Installs softtenant on a running cluster as a user does, from the overlay that only swaps in
# the locally built image, and waits until the operator Deployment and the agent DaemonSet are
# rolled out. Usage: install-softtenant.sh KUBECONFIG
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
export KUBECONFIG="${1:?usage: install-softtenant.sh KUBECONFIG}"
log "installing softtenant: kubectl apply --server-side -k hack/cluster/overlay"
kubectl apply --server-side -k "$here/overlay" >/dev/null
log "waiting for the operator Deployment and the agent DaemonSet to roll out"
kubectl -n softtenant-system rollout status deployment/softtenant-operator --timeout=240s >&2
kubectl -n softtenant-system rollout status daemonset/softtenant-agent --timeout=240s >&2
kubectl -n softtenant-system get pods -o wide >&2
