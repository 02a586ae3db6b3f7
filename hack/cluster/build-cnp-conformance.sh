#!/usr/bin/env bash
# Builds what the network-policy-api conformance suite needs into the shared cache (once; later
# runs return at once), under a flock so that two worktrees never build into it together:
#   - cnp-conformance.test: the test binary of the module's conformance/ package
#     (sigs.k8s.io/network-policy-api, fetched through the Go module proxy and verified by the
#     checksum database, as `go get` does);
#   - agnhost-2.45-sctp-shim.tar: the image its base manifests name (registry.k8s.io/e2e-test-images/
#     agnhost:2.45). They start every server as `/bin/bash -c "/agnhost ..."`, so unlike the
#     image of build-nodes.sh this one holds a shell: Debian's statically linked bash
#     (bash-static, installed here when missing) as /bin/bash, next to our own agnhost build
#     (/agnhost-bin) and /agnhost, agnhost-sctp-shim.sh: on a kernel without SCTP it keeps the
#     base pods' `porter` servers from dying on their SCTP ports (see that script).
# Usage: build-cnp-conformance.sh    prints nothing on stdout; progress on stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"

NETPOL_API_VERSION="${NETPOL_API_VERSION:-v0.3.0}"
CNP_CACHE="$SOFTTENANT_CACHE/cnp/network-policy-api-$NETPOL_API_VERSION"
CNP_AGNHOST_IMAGE="registry.k8s.io/e2e-test-images/agnhost:2.45"
bin="$CNP_CACHE/bin/cnp-conformance.test"
tar="$CNP_CACHE/images/agnhost-2.45-sctp-shim.tar"

mkdir -p "$CNP_CACHE/bin" "$CNP_CACHE/images" "$CNP_CACHE/build"
exec 9>"$CNP_CACHE/.lock"
flock 9
if [ -x "$bin" ] && [ -f "$tar" ]; then
  log "network-policy-api $NETPOL_API_VERSION conformance binary and agnhost 2.45 image cached in $CNP_CACHE"
  exit 0
fi

# Our agnhost binary comes from build-nodes.sh (k8s.io/kubernetes test/images/agnhost).
"$here/build-nodes.sh"
command -v go >/dev/null || { log "error: Go is required to build the conformance binary"; exit 1; }
export GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

if [ ! -x "$bin" ]; then
  cd "$CNP_CACHE/build"
  # A throwaway module that requires the released module; -t also resolves the test-only
  # dependencies of its conformance package.
  if [ ! -f go.mod ] || ! grep -q "sigs.k8s.io/network-policy-api $NETPOL_API_VERSION" go.mod; then
    log "preparing a throwaway module for sigs.k8s.io/network-policy-api $NETPOL_API_VERSION"
    rm -f go.mod go.sum
    go mod init softtenant.local/cnp-conformance-build >/dev/null 2>&1
    go get -t "sigs.k8s.io/network-policy-api/conformance@$NETPOL_API_VERSION" 2>&1 | tail -n 3 >&2
  fi
  log "building cnp-conformance.test (go test -c; several minutes on 2 shared cores) ..."
  start=$(date +%s)
  nice go test -mod=mod -c -trimpath -ldflags '-s -w' -o "$bin.tmp" sigs.k8s.io/network-policy-api/conformance
  mv "$bin.tmp" "$bin"
  log "built cnp-conformance.test in $(( $(date +%s) - start ))s"
fi

if [ ! -f "$tar" ]; then
  if [ ! -x /bin/bash-static ]; then
    log "installing Debian's bash-static (the shell of the agnhost 2.45 image)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends bash-static >/dev/null 2>&1 || {
      apt-get -o DPkg::Lock::Timeout=600 update -qq
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends bash-static >/dev/null
    }
  fi
  log "writing image $CNP_AGNHOST_IMAGE to $tar"
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs/tmp" "$rootfs/bin" && chmod 1777 "$rootfs/tmp"
  cp "$NODE_BIN_DIR/agnhost" "$rootfs/agnhost-bin"
  install -m 0755 "$here/agnhost-sctp-shim.sh" "$rootfs/agnhost"
  cp /bin/bash-static "$rootfs/bin/bash"
  ln -s bash "$rootfs/bin/sh"
  "$here/image-archive.sh" "$rootfs" "$CNP_AGNHOST_IMAGE" "$tar" /agnhost pause
fi
log "network-policy-api conformance binary and agnhost 2.45 image ready in $CNP_CACHE"
