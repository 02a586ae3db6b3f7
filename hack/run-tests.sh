#!/usr/bin/env bash
# Runs every test suite (unit, integration, dataplane, image, e2e, nodes, conformance), keeps
# going past a failing suite, and ends with one line "N passed, N failed".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
export SOFTTENANT_RESULTS="$results"
suites=("${@:-lint unit integration dataplane image e2e nodes conformance}")
# shellcheck disable=SC2068
for s in ${suites[@]}; do
  if [ "$s" = lint ]; then
    # Static checks count as one test, so a lint failure shows in the summary line.
    echo "=== lint: eslint and prettier" >&2
    if npx eslint . && npx prettier --check . >/dev/null; then
      echo '{"passes":1,"failures":0,"pending":0}' >"$results/lint.json"
    else
      echo "lint failed (run: npx eslint --fix . && npx prettier --write .)" >&2
      echo '{"passes":0,"failures":1,"pending":0}' >"$results/lint.json"
    fi
    continue
  fi
  if [ "$s" = conformance ]; then
    # The upstream NetworkPolicy e2e (ginkgo): it writes $results/conformance.json itself.
    echo "=== suite: conformance (upstream NetworkPolicy e2e on real nodes)" >&2
    bash hack/cluster/conformance.sh || echo "suite conformance exited non-zero" >&2
    [ -f "$results/conformance.json" ] || echo '{"passes":0,"failures":1,"pending":0}' >"$results/conformance.json"
    continue
  fi
  cfg="test/mocharc.$s.json"
  [ -f "$cfg" ] || continue
  echo "=== suite: $s" >&2
  npx mocha --config "$cfg" || echo "suite $s exited non-zero" >&2
  # A suite that crashed before reporting counts as one failure, never as silence.
  [ -f "$results/$s.json" ] || echo '{"passes":0,"failures":1,"pending":0}' >"$results/$s.json"
done
node -e '
const fs = require("fs"); const dir = process.argv[1];
let p = 0, f = 0, s = 0; const failed = [];
for (const file of fs.readdirSync(dir).sort()) {
  const r = JSON.parse(fs.readFileSync(dir + "/" + file, "utf8")); p += r.passes; f += r.failures; s += r.pending;
  const suite = file.replace(/\.json$/, "");
  for (const t of r.failed ?? []) failed.push(`${suite}: ${t}`);
  if (r.failures > (r.failed ?? []).length) failed.push(`${suite}: ${r.failures - (r.failed ?? []).length} failure(s) without a test name (see the suite output above)`);
}
// Named here, just above the summary, so the tail of a CI log says which tests failed.
for (const line of failed) console.log(`failed: ${line}`);
if (s) console.log(`${s} skipped`);
console.log(`${p} passed, ${f} failed`);
process.exit(f > 0 || p === 0 ? 1 : 0);
' "$results"
