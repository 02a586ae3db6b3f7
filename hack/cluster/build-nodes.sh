#!/usr/bin/env bash
# Builds what real nodes need into the shared cache (once; later runs return at once):
# kubelet, kube-proxy and kube-scheduler from the k8s.io/kubernetes Go module, agnhost and the
# upstream NetworkPolicy e2e test binary (with the ginkgo CLI that runs it in parallel), and the
# pause and agnhost images as docker-archive tarballs. Runs under a flock on the cache, so two
# worktrees never build into it at once. Each step says what it does and how long it took.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
# shellcheck source=../kube-module.sh
. "$here/../kube-module.sh"

mkdir -p "$NODE_BIN_DIR" "$NODE_IMAGE_DIR"
exec 9>"$NODE_CACHE/.lock"
flock 9

bins=(kubelet kube-proxy kube-scheduler agnhost pause e2e-netpol.test ginkgo)
images=(pause.tar agnhost.tar)
done_all=1
for b in "${bins[@]}"; do [ -x "$NODE_BIN_DIR/$b" ] || done_all=0; done
for i in "${images[@]}"; do [ -f "$NODE_IMAGE_DIR/$i" ] || done_all=0; done
if [ "$done_all" = 1 ]; then
  log "node binaries and images cached in $NODE_CACHE"
  exit 0
fi
command -v go >/dev/null || { log "error: Go is required to build the node binaries"; exit 1; }
export GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
work="$NODE_CACHE/build"
mkdir -p "$work/netpol"
cd "$work"

# A throwaway module (hack/kube-module.sh) for the node binaries and the e2e test package. The
# e2e package imports only the NetworkPolicy specs and the framework's flags; it is written here,
# not copied.
tools='package main\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-proxy/app"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler/app"\n\t_ "k8s.io/kubernetes/cmd/kubelet/app"\n)\n\nfunc main() {}\n'
suite='package netpol\n\nimport (\n\t"flag"\n\t"os"\n\t"testing"\n\n\t"github.com/onsi/ginkgo/v2"\n\t"github.com/onsi/gomega"\n\t"k8s.io/kubernetes/test/e2e/framework"\n\t_ "k8s.io/kubernetes/test/e2e/network/netpol"\n)\n\nfunc TestMain(m *testing.M) {\n\tframework.RegisterCommonFlags(flag.CommandLine)\n\tframework.RegisterClusterFlags(flag.CommandLine)\n\tflag.Parse()\n\tframework.AfterReadingAllFlags(&framework.TestContext)\n\tos.Exit(m.Run())\n}\n\nfunc TestNetworkPolicy(t *testing.T) {\n\tgomega.RegisterFailHandler(framework.Fail)\n\tginkgo.RunSpecs(t, "NetworkPolicy e2e")\n}\n'
kube_module softtenant.local/node-build "$tools" netpol/netpol_test.go "$suite"
ldflags="$(kube_ldflags)"

step() { # name, command...: runs a build step unless its output exists, and times it
  local out="$1"; shift
  [ -e "$out" ] && return 0
  log "building $(basename "$out") ..."
  local start; start=$(date +%s)
  "$@"
  log "built $(basename "$out") in $(( $(date +%s) - start ))s"
}
gobuild() { local out="$1" pkg="$2"; shift 2; nice go build -mod=mod -trimpath -ldflags "$ldflags" "$@" -o "$out.tmp" "$pkg" && mv "$out.tmp" "$out"; }
# The kubelet first: it compiles most of what the others share.
step "$NODE_BIN_DIR/kubelet" gobuild "$NODE_BIN_DIR/kubelet" k8s.io/kubernetes/cmd/kubelet
step "$NODE_BIN_DIR/kube-proxy" gobuild "$NODE_BIN_DIR/kube-proxy" k8s.io/kubernetes/cmd/kube-proxy
step "$NODE_BIN_DIR/kube-scheduler" gobuild "$NODE_BIN_DIR/kube-scheduler" k8s.io/kubernetes/cmd/kube-scheduler
# Static binaries: the images hold nothing but them.
step "$NODE_BIN_DIR/agnhost" env CGO_ENABLED=0 bash -c "$(declare -f gobuild); ldflags='$ldflags'; gobuild '$NODE_BIN_DIR/agnhost' k8s.io/kubernetes/test/images/agnhost"
step "$NODE_BIN_DIR/pause" env CGO_ENABLED=0 bash -c "cd '$here/pause' && nice go build -trimpath -ldflags '-s -w' -o '$NODE_BIN_DIR/pause.tmp' pause.go && mv '$NODE_BIN_DIR/pause.tmp' '$NODE_BIN_DIR/pause'"
step "$NODE_BIN_DIR/e2e-netpol.test" bash -c "nice go test -mod=mod -c -trimpath -ldflags '$ldflags' -o '$NODE_BIN_DIR/e2e-netpol.test.tmp' ./netpol && mv '$NODE_BIN_DIR/e2e-netpol.test.tmp' '$NODE_BIN_DIR/e2e-netpol.test'"
# The ginkgo CLI at the version the suite was built with (it refuses another), for -p.
step "$NODE_BIN_DIR/ginkgo" bash -c "nice go build -mod=mod -trimpath -o '$NODE_BIN_DIR/ginkgo.tmp' github.com/onsi/ginkgo/v2/ginkgo && mv '$NODE_BIN_DIR/ginkgo.tmp' '$NODE_BIN_DIR/ginkgo'"

image() { # tarball, ref, binary, entrypoint, cmd...
  local tar="$1" ref="$2" bin="$3"; shift 3
  [ -f "$tar" ] && return 0
  log "writing image $ref to $tar"
  local rootfs; rootfs="$(mktemp -d)"
  mkdir -p "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"
  cp "$bin" "$rootfs/"
  "$here/image-archive.sh" "$rootfs" "$ref" "$tar" "$@"
  rm -rf "$rootfs"
}
image "$NODE_IMAGE_DIR/pause.tar" "$PAUSE_IMAGE" "$NODE_BIN_DIR/pause" /pause
image "$NODE_IMAGE_DIR/agnhost.tar" "$AGNHOST_IMAGE" "$NODE_BIN_DIR/agnhost" /agnhost pause
log "node binaries and images ready in $NODE_CACHE"
