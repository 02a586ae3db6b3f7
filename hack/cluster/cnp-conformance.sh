#!/usr/bin/env bash
# The network-policy-api conformance suite (sigs.k8s.io/network-policy-api conformance/,
# profile ClusterNetworkPolicy, standard channel) against softtenant on real nodes: builds what
# it needs (build-cnp-conformance.sh), brings a cluster up (cluster-up.sh, one per machine under
# its lock), installs softtenant as users do and the vendored ClusterNetworkPolicy CRD, imports
# the shell-capable agnhost 2.45 image the suite's manifests name into every node, runs the
# suite and prints one line per test, then "N passed, N failed". The ConformanceReport goes to
# .tmp/cnp-conformance/report.yaml. With SOFTTENANT_RESULTS set (hack/run-tests.sh), the counts
# go to $SOFTTENANT_RESULTS/cnp-conformance.json.
# SCTP: on a kernel without it (after `modprobe sctp`) the suite's SCTP tests are not run
# (go test -test.skip). The suite's runner counts a test that go test filtered out as passed, so
# the report is then corrected: those tests are listed as skipped, and the profile's standard
# result becomes the failure the suite itself gives a skipped required test, with the reason.
# Usage: cnp-conformance.sh [STATE_DIR]   env: CNP_CONFORMANCE_RUN (a go test -run pattern),
#        CNP_CONFORMANCE_TIMEOUT (default 40m)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
state="${1:-$root/.tmp/cnp-conformance-cluster}"
out="$root/.tmp/cnp-conformance"
NETPOL_API_VERSION="${NETPOL_API_VERSION:-v0.3.0}"
CNP_CACHE="$SOFTTENANT_CACHE/cnp/network-policy-api-$NETPOL_API_VERSION"
results="${SOFTTENANT_RESULTS:-}"
record() { [ -n "$results" ] && printf '{"passes":%d,"failures":%d,"pending":%d}\n' "$1" "$2" "$3" >"$results/cnp-conformance.json"; return 0; }
record 0 1 0 # until the suite has run, it counts as one failure
mkdir -p "$out"
rm -f "$out/report.yaml" "$out/test.log"

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
sctp_skipped=""
modprobe sctp 2>/dev/null || true
if [ ! -d /proc/net/sctp ]; then
  # The SCTP tests by name, from the module's source (the build fetched it).
  src="$(cd "$CNP_CACHE/build" && go list -mod=mod -m -f '{{.Dir}}' sigs.k8s.io/network-policy-api 2>/dev/null)"
  sctp_skipped="$(grep -ho 'ShortName: *"[A-Za-z]*SCTP"' "$src"/conformance/tests/*.go 2>/dev/null | sed 's/.*"\(.*\)"/\1/' | sort | tr '\n' ' ')"
  [ -n "$sctp_skipped" ] || { log "error: cannot list the suite's SCTP tests in '$src'"; echo "0 passed, 1 failed"; exit 1; }
  log "this kernel has no SCTP: skipping the suite's SCTP tests: $sctp_skipped"
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

if [ -n "$sctp_skipped" ] && [ -f "$out/report.yaml" ]; then
  # Correct the report (see the header): each SCTP test that did not run moves from the
  # passed count to the skipped list.
  (cd "$root" && node --input-type=module - "$out/report.yaml" "$out/test.log" $sctp_skipped) <<'JS' || { log "error: cannot correct the report"; rc=1; }
import fs from "node:fs";
import yaml from "js-yaml";
const [file, logFile, ...names] = process.argv.slice(2);
const log = fs.readFileSync(logFile, "utf8");
const report = yaml.load(fs.readFileSync(file, "utf8"));
for (const profile of report.profiles ?? []) {
  const std = profile.standard;
  for (const name of names) {
    if (log.includes(`=== RUN   TestConformanceProfiles/${name}\n`)) continue; // it ran
    if ((std.failedTests ?? []).includes(name)) continue;
    std.statistics.Passed -= 1;
    std.statistics.Skipped = (std.statistics.Skipped ?? 0) + 1;
    std.skippedTests = [...(std.skippedTests ?? []), name];
  }
  if (std.skippedTests?.length && !std.statistics.Failed) {
    std.result = "failure";
    std.summary = `required tests skipped: ${std.skippedTests.join(", ")} (this kernel has no SCTP)`;
  }
}
fs.writeFileSync(file, yaml.dump(report, { lineWidth: -1 }));
JS
fi

# go test -v: "--- PASS: TestConformanceProfiles/CNPAdminTierIngressTCP (1.23s)" per (sub)test.
grep -E '^\s*--- (PASS|FAIL|SKIP): TestConformanceProfiles/[^/ ]+ ' "$out/test.log" | sed 's/^ *//' || true
# Each probe that never gave the expected result ("Condition never satisfied"), by test, with the
# protocol of the last command before it: several TCP/UDP tests probe SCTP as well, and on a
# kernel without SCTP those probes cannot succeed whatever the policy says.
awk '
  match($0, /^=== (RUN|NAME|CONT) +TestConformanceProfiles\/[^\/ ]+/) { t = substr($0, RSTART, RLENGTH); sub(/.* TestConformanceProfiles\//, "", t) }
  /FAILED Command was/ { cmd = $0; sub(/.*FAILED Command was /, "", cmd) }
  /Condition never satisfied/ { n[t]++; p = cmd; sub(/.*--protocol=/, "", p); sub(/ .*/, "", p); by[t] = by[t] " " p }
  END { for (t in n) printf "    %s: %d probe(s) never as expected, protocols:%s\n", t, n[t], by[t] }
' "$out/test.log" | sort
for name in $sctp_skipped; do echo "--- SKIP: TestConformanceProfiles/$name (no SCTP in this kernel)"; done
passed=$(grep -cE '^\s*--- PASS: TestConformanceProfiles/[^/ ]+ ' "$out/test.log")
failed=$(grep -cE '^\s*--- FAIL: TestConformanceProfiles/[^/ ]+ ' "$out/test.log")
skipped=$(grep -cE '^\s*--- SKIP: TestConformanceProfiles/[^/ ]+ ' "$out/test.log")
skipped=$((skipped + $(wc -w <<<"$sctp_skipped")))
if [ "$passed" = 0 ] || { [ "$rc" != 0 ] && [ "$failed" = 0 ]; }; then failed=$((failed + 1)); fi
record "$passed" "$failed" "$skipped"
echo "$skipped skipped (experimental features, or no kernel support)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
