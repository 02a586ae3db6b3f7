#!/usr/bin/env bash
# The network-policy-api conformance suite (sigs.k8s.io/network-policy-api conformance/,
# profile ClusterNetworkPolicy, standard channel) against softtenant on real nodes: builds what
# it needs (build-cnp-conformance.sh), brings a cluster up (cluster-up.sh, one per machine under
# its lock), installs softtenant as users do and the vendored ClusterNetworkPolicy CRD, imports
# the shell-capable agnhost 2.45 image the suite's manifests name into every node, runs the
# suite and prints one line per test, then "N passed, N failed". The ConformanceReport goes to
# .tmp/cnp-conformance/report.yaml. Not part of `make test` yet: the agent does not enforce
# ClusterNetworkPolicy, so most tests fail today.
# Usage: cnp-conformance.sh [STATE_DIR]   env: CNP_CONFORMANCE_RUN (a go test -run pattern),
#        CNP_CONFORMANCE_TIMEOUT (default 40m)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
state="${1:-$root/.tmp/cnp-conformance-cluster}"
out="$root/.tmp/cnp-conformance"
CNP_CACHE="$SOFTTENANT_CACHE/cnp/network-policy-api-${NETPOL_API_VERSION:-v0.3.0}"
mkdir -p "$out"

"$here/build-cnp-conformance.sh" || { echo "0 passed, 1 failed"; exit 1; }
trap '"$here/cluster-down.sh" "$state"' EXIT
start=$(date +%s)
kubeconfig="$("$here/cluster-up.sh" "$state")" || { echo "0 passed, 1 failed"; exit 1; }
export KUBECONFIG="$kubeconfig"
"$here/install-softtenant.sh" "$kubeconfig" || { echo "0 passed, 1 failed"; exit 1; }
kubectl apply --server-side -f "$root/config/crd/network-policy-api/policy.networking.k8s.io_clusternetworkpolicies.yaml" >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/clusternetworkpolicies.policy.networking.k8s.io >/dev/null
for dir in "$state"/node*/; do
  log "$(basename "$dir"): importing agnhost-2.45-sctp-shim.tar"
  nsenter --target "$(cat "$dir/ns.pid")" --mount --net -- \
    ctr -a /run/containerd/containerd.sock -n k8s.io images import "$CNP_CACHE/images/agnhost-2.45-sctp-shim.tar" >/dev/null ||
    { echo "0 passed, 1 failed"; exit 1; }
done
log "cluster up, softtenant and the ClusterNetworkPolicy CRD installed in $(( $(date +%s) - start ))s"

run_start=$(date +%s)
log "running the network-policy-api conformance suite (profile ClusterNetworkPolicy)"
# SCTP tests need SCTP in the kernel (the nodes share the host's): skipped only where it lacks it.
skip=()
if [ ! -d /proc/net/sctp ]; then
  log "this kernel has no SCTP: skipping the suite's SCTP tests (CNP*SCTP)"
  skip=(-test.skip 'TestConformanceProfiles/SCTP$')
fi
# go test flags first (-test.*), then the suite's own.
"$CNP_CACHE/bin/cnp-conformance.test" -test.v -test.timeout "${CNP_CONFORMANCE_TIMEOUT:-40m}" \
  -test.run "${CNP_CONFORMANCE_RUN:-TestConformanceProfiles}" "${skip[@]}" \
  -conformance-profiles ClusterNetworkPolicy \
  -organization softtenant -project softtenant -url https://softtenant.invalid -version dev \
  -contact softtenant-maintainers -additional-info "hack/cluster/cnp-conformance.sh" \
  -report-output "$out/report.yaml" >"$out/test.log" 2>&1
rc=$?
log "suite finished in $(( $(date +%s) - run_start ))s (exit $rc); log in $out/test.log"
# go test -v: "--- PASS: TestConformanceProfiles/CNPAdminTierIngressTCP (1.23s)" per (sub)test.
grep -E '^\s*--- (PASS|FAIL|SKIP): TestConformanceProfiles/[^/ ]+ ' "$out/test.log" | sed 's/^ *//' || true
passed=$(grep -cE '^\s*--- PASS: TestConformanceProfiles/[^/ ]+ ' "$out/test.log")
failed=$(grep -cE '^\s*--- FAIL: TestConformanceProfiles/[^/ ]+ ' "$out/test.log")
skipped=$(grep -cE '^\s*--- SKIP: TestConformanceProfiles/[^/ ]+ ' "$out/test.log")
if [ "$passed" = 0 ] || { [ "$rc" != 0 ] && [ "$failed" = 0 ]; }; then failed=$((failed + 1)); fi
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
