#!/usr/bin/env bash
# The upstream NetworkPolicy e2e (k8s.io/kubernetes test/e2e/network/netpol) against softtenant
# on real nodes: brings a cluster up (cluster-up.sh), installs softtenant as users do (the agent
# DaemonSet is the only NetworkPolicy enforcer), runs every NetworkPolicy spec in parallel
# ginkgo processes, prints ginkgo's summary and ends with "N passed, N failed". SCTP specs are
# skipped only when this kernel has no SCTP, and the output says so. With SOFTTENANT_RESULTS set
# (hack/run-tests.sh), the counts go to $SOFTTENANT_RESULTS/conformance.json.
# Usage: conformance.sh [STATE_DIR]   env: CONFORMANCE_PROCS (default 3)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
state="${1:-$root/.tmp/conformance}"
procs="${CONFORMANCE_PROCS:-3}"
report="$root/.tmp/conformance-report"
results="${SOFTTENANT_RESULTS:-}"
record() { [ -n "$results" ] && printf '{"passes":%d,"failures":%d,"pending":%d}\n' "$1" "$2" "$3" >"$results/conformance.json"; return 0; }
record 0 1 0 # until the suite has run, it counts as one failure
trap '"$here/cluster-down.sh" "$state"' EXIT

start=$(date +%s)
kubeconfig="$("$here/cluster-up.sh" "$state")" || { echo "0 passed, 1 failed"; exit 1; }
"$here/install-softtenant.sh" "$kubeconfig" || { echo "0 passed, 1 failed"; exit 1; }
log "cluster up and softtenant installed in $(( $(date +%s) - start ))s"

skip='\[Feature:SCTPConnectivity\]'
modprobe sctp 2>/dev/null || true
if [ -e /proc/net/sctp ]; then
  skip='^$'
  log "this kernel has SCTP: the SCTP specs run too"
else
  log "this kernel has no SCTP (modprobe sctp failed, no /proc/net/sctp): skipping the [Feature:SCTPConnectivity] specs"
fi
rm -rf "$report" && mkdir -p "$report"
log "running the upstream NetworkPolicy e2e ($KUBE_VERSION) in $procs parallel ginkgo processes"
run_start=$(date +%s)
# ginkgo's own flags before the binary, the e2e framework's after "--".
"$NODE_BIN_DIR/ginkgo" run --procs "$procs" --timeout 50m \
  --focus '\[sig-network\] (Netpol|NetworkPolicy API)' --skip "$skip" \
  --json-report report.json --output-dir "$report" --no-color \
  "$NODE_BIN_DIR/e2e-netpol.test" -- \
  --kubeconfig "$kubeconfig" --provider skeleton --report-dir "$report"
rc=$?
log "e2e finished in $(( $(date +%s) - run_start ))s (ginkgo exit $rc)"
counts="$(node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
let p = 0, f = 0, s = 0;
for (const suite of r) for (const spec of suite.SpecReports ?? []) {
  if (spec.LeafNodeType !== "It") continue;
  if (spec.State === "passed") p++;
  else if (spec.State === "skipped" || spec.State === "pending") s++;
  else { f++; console.error(`FAILED: ${spec.ContainerHierarchyTexts.join(" ")} ${spec.LeafNodeText}`); }
}
console.log(p, f, s);
' "$report/report.json")" || counts="0 1 0"
read -r passed failed skipped <<<"$counts"
# A run that executed nothing, or exited non-zero without a failed spec, is a failure.
if [ "$passed" = 0 ] || { [ "$rc" != 0 ] && [ "$failed" = 0 ]; }; then failed=$((failed + 1)); fi
record "$passed" "$failed" "$skipped"
echo "$skipped skipped (not selected or no kernel support)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
