#!/usr/bin/env bash
# Vendors the ClusterNetworkPolicy CRD (policy.networking.k8s.io, v1beta1 stored, v1alpha2 also
# served) as released in the Go module sigs.k8s.io/network-policy-api, standard channel, into
# config/crd/network-policy-api/. The module comes through the Go module proxy and `go mod
# download` checks it against the checksum database (sum.golang.org), so the file is the one
# the release holds, byte for byte.
# Usage: vendor-network-policy-api.sh           write the file
#        vendor-network-policy-api.sh --check   exit 1 (and show a diff) if the file differs
# env: NETPOL_API_VERSION (default v0.3.0)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=controlplane-env.sh
. "$here/controlplane-env.sh"
version="${NETPOL_API_VERSION:-v0.3.0}"
module="sigs.k8s.io/network-policy-api"
file="policy.networking.k8s.io_clusternetworkpolicies.yaml"
dest="$root/config/crd/network-policy-api/$file"
mode="${1:-write}"

command -v go >/dev/null || { log "error: Go is required to fetch $module"; exit 1; }
[ "$(go env GOSUMDB)" != off ] || { log "error: GOSUMDB=off: $module would not be checked against the checksum database"; exit 1; }
# `go mod download` needs no main module: it runs in a scratch directory.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
json="$(cd "$scratch" && GOFLAGS= GONOSUMDB= GOPRIVATE= go mod download -json "$module@$version")"
dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
sum="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"$json")"
log "$module@$version: $sum (checked by go against $(go env GOSUMDB))"
src="$dir/config/crd/standard/$file"
[ -f "$src" ] || { log "error: $module@$version has no config/crd/standard/$file"; exit 1; }
grep -q "policy.networking.k8s.io/bundle-version: $version" "$src" || { log "error: $src is not bundle $version"; exit 1; }
grep -q 'policy.networking.k8s.io/channel: standard' "$src" || { log "error: $src is not the standard channel"; exit 1; }

if [ "$mode" = --check ]; then
  if cmp -s "$src" "$dest"; then
    log "$dest equals $module@$version config/crd/standard/$file"
    exit 0
  fi
  log "$dest differs from $module@$version config/crd/standard/$file (run hack/vendor-network-policy-api.sh)"
  diff -u "$src" "$dest" | head -n 40 >&2 || true
  exit 1
fi
mkdir -p "$(dirname "$dest")"
cp "$src" "$dest.tmp" && chmod 644 "$dest.tmp" && mv "$dest.tmp" "$dest"
log "wrote $dest from $module@$version (standard channel)"
