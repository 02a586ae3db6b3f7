#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from their Go modules into a
# version-keyed cache outside the repo (and kubectl when the machine has none).
# A second run with the binaries present returns at once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=controlplane-env.sh
. "$here/controlplane-env.sh"

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
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
staging="v0.${KUBE_VERSION#v1.}"

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
  if [ ! -f go.mod ] || [ "$(cat tools.go 2>/dev/null)" != "$(printf "$tools")" ]; then
    log "preparing a throwaway module for k8s.io/kubernetes $KUBE_VERSION (staging modules pinned to $staging)"
    rm -f go.mod go.sum
    go mod init softtenant.local/kube-build >/dev/null 2>&1
    # k8s.io/kubernetes requires its staging modules as v0.0.0 with local replaces that do not
    # apply to a dependent module; pin each of them to the matching published version instead.
    gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod" | sort -u | while read -r m; do
      echo "replace $m => $m $staging" >>go.mod
    done
    go get "k8s.io/kubernetes@$KUBE_VERSION" 2>&1 | tail -n 3 >&2
    printf "$tools" >tools.go
    go mod tidy 2>&1 | tail -n 3 >&2
  fi
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
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
