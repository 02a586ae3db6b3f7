#!/usr/bin/env bash
# The upstream NetworkPolicy e2e (k8s.io/kubernetes test/e2e/network/netpol) against softtenant
# on real nodes: brings a cluster up (cluster-up.sh), installs softtenant as users do (the agent
# DaemonSet is the only NetworkPolicy enforcer), runs every NetworkPolicy spec in parallel
# ginkgo processes, prints ginkgo's summary and ends with "N passed, N failed". SCTP specs are
# skipped only when this kernel has no SCTP, and the output says so. With SOFTTENANT_RESULTS set
# (hack/run-tests.sh), the counts go to $SOFTTENANT_RESULTS/conformance.json.
#
# The suite follows the cluster's primary family: it probes each pod through its Service's
# ClusterIP (a Service without ipFamilies gets the primary family) and builds its ipBlock peers
# from status.podIP (the pod's primary address); it has no flag to pick a family. So each family
# is one pass on its own dual-stack cluster, that family primary: CONFORMANCE_FAMILIES lists the
# passes (cluster-up.sh's CLUSTER_FAMILIES values). The default is the IPv6 pass alone, to keep
# `make test` in its time budget (a pass costs a cluster and the whole suite, see docs/testing.md);
# IPv4 on real nodes is the nodes suite's, on the IPv4-primary dual-stack cluster.
# CONFORMANCE_FAMILIES="ipv4,ipv6 ipv6,ipv4" runs both families.
# Usage: conformance.sh [STATE_DIR]   env: CONFORMANCE_PROCS (default 3), CONFORMANCE_FAMILIES
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
state="${1:-$root/.tmp/conformance}"
procs="${CONFORMANCE_PROCS:-3}"
read -ra passes <<<"${CONFORMANCE_FAMILIES:-ipv6,ipv4}"
reports="$root/.tmp/conformance-report"
results="${SOFTTENANT_RESULTS:-}"
record() { [ -n "$results" ] && printf '{"passes":%d,"failures":%d,"pending":%d}\n' "$1" "$2" "$3" >"$results/conformance.json"; return 0; }
record 0 1 0 # until the suite has run, it counts as one failure
trap '"$here/cluster-down.sh" "$state"' EXIT

skip='\[Feature:SCTPConnectivity\]'
modprobe sctp 2>/dev/null || true
if [ -e /proc/net/sctp ]; then
  skip='^$'
  log "this kernel has SCTP: the SCTP specs run too"
else
  log "this kernel has no SCTP (modprobe sctp failed, no /proc/net/sctp): skipping the [Feature:SCTPConnectivity] specs"
fi
rm -rf "$reports" && mkdir -p "$reports"

# One pass: a cluster of these families, softtenant, the suite -> "passed failed skipped".
run_pass() {
  local families="$1" report="$reports/${1%%,*}" kubeconfig start run_start rc counts passed failed skipped
  mkdir -p "$report"
  start=$(date +%s)
  kubeconfig="$(CLUSTER_FAMILIES="$families" "$here/cluster-up.sh" "$state")" || { echo 0 1 0; return; }
  "$here/install-softtenant.sh" "$kubeconfig" >&2 || { echo 0 1 0; return; }
  log "[$families] cluster up and softtenant installed in $(( $(date +%s) - start ))s"
  log "[$families] running the upstream NetworkPolicy e2e ($KUBE_VERSION) in $procs parallel ginkgo processes"
  run_start=$(date +%s)
  # ginkgo's own flags before the binary, the e2e framework's after "--".
  "$NODE_BIN_DIR/ginkgo" run --procs "$procs" --timeout 50m \
    --focus '\[sig-network\] (Netpol|NetworkPolicy API)' --skip "$skip" \
    --json-report report.json --output-dir "$report" --no-color \
    "$NODE_BIN_DIR/e2e-netpol.test" -- \
    --kubeconfig "$kubeconfig" --provider skeleton --report-dir "$report" >&2
  rc=$?
  log "[$families] e2e finished in $(( $(date +%s) - run_start ))s (ginkgo exit $rc)"
  counts="$(node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
let p = 0, f = 0, s = 0;
for (const suite of r) for (const spec of suite.SpecReports ?? []) {
  if (spec.LeafNodeType !== "It") continue;
  if (spec.State === "passed") p++;
  else if (spec.State === "skipped" || spec.State === "pending") s++;
  else { f++; console.error(`FAILED (${process.argv[2]}): ${spec.ContainerHierarchyTexts.join(" ")} ${spec.LeafNodeText}`); }
}
console.log(p, f, s);
' "$report/report.json" "$families")" || counts="0 1 0"
  read -r passed failed skipped <<<"$counts"
  # A run that executed nothing, or exited non-zero without a failed spec, is a failure.
  if [ "$passed" = 0 ] || { [ "$rc" != 0 ] && [ "$failed" = 0 ]; }; then failed=$((failed + 1)); fi
  log "[$families] $passed passed, $failed failed, $skipped skipped"
  "$here/cluster-down.sh" "$state" >&2
  echo "$passed $failed $skipped"
}

total_p=0 total_f=0 total_s=0 left=${#passes[@]}
for families in "${passes[@]}"; do
  read -r p f s <<<"$(run_pass "$families")"
  echo "pass $families (primary ${families%%,*}): $p passed, $f failed, $s skipped"
  total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s)) left=$((left - 1))
  # A pass that has not run yet counts as one failure, should this script die before it.
  record "$total_p" "$((total_f + left))" "$total_s"
done
echo "$total_s skipped (not selected or no kernel support)"
echo "$total_p passed, $total_f failed"
[ "$total_f" = 0 ]
