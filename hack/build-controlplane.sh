#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from their Go modules into a
# version-keyed cache outside the repo (and kubectl when the machine has none).
# A second run with the binaries present returns at once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=controlplane-env.sh
. "$here/controlplane-env.sh"
# shellcheck source=kube-module.sh
. "$here/kube-module.sh"

# kubectl is built too so that it matches the server (a distro kubectl is often outside the
# supported skew of one minor version).
want=(etcd kube-apiserver kube-controller-manager kubectl)
missing=()
for b in "${want[@]}"; do [ -x "$CP_BIN_DIR/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -eq 0 ]; then
  log "control plane binaries cached in $CP_BIN_DIR"
  exit 0
fi
command -v go >/dev/null || { log "error: Go is required to build the control plane"; exit 1; }
export GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
mkdir -p "$CP_BIN_DIR"
work="$SOFTTENANT_CACHE/controlplane/build-$KUBE_VERSION-$ETCD_VERSION"
mkdir -p "$work/etcd" "$work/kube"

if [[ " ${missing[*]} " == *" etcd "* ]]; then
  log "building etcd $ETCD_VERSION (go build, first time only; a few minutes on 2 cores)"
  cd "$work/etcd"
  [ -f go.mod ] || go mod init softtenant.local/etcd-build >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" 2>&1 | tail -n 3 >&2
  go build -trimpath -ldflags "-s -w" -o "$CP_BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$CP_BIN_DIR/etcd.tmp" "$CP_BIN_DIR/etcd"
  log "etcd built"
fi

kube_targets=()
for b in kube-apiserver kube-controller-manager kubectl; do
  [[ " ${missing[*]} " == *" $b "* ]] && kube_targets+=("$b")
done
if [ ${#kube_targets[@]} -gt 0 ]; then
  cd "$work/kube"
  tools='package main\n\nimport (\n\t_ "k8s.io/kubectl/pkg/cmd"\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"\n)\n\nfunc main() {}\n'
  kube_module softtenant.local/kube-build "$tools"
  ldflags="$(kube_ldflags)"
  i=0
  for b in "${kube_targets[@]}"; do
    i=$((i + 1))
    log "building $b $KUBE_VERSION ($i/${#kube_targets[@]}; the first build compiles most of Kubernetes, 5-15 minutes on 2 cores)"
    start=$(date +%s)
    go build -trimpath -ldflags "$ldflags" -o "$CP_BIN_DIR/$b.tmp" "k8s.io/kubernetes/cmd/$b"
    mv "$CP_BIN_DIR/$b.tmp" "$CP_BIN_DIR/$b"
    log "$b built in $(( $(date +%s) - start ))s"
  done
fi
log "control plane binaries ready in $CP_BIN_DIR"
