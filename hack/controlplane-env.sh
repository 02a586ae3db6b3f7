# Sourced by the hack/ scripts: versions and locations of the local control plane.
# The build cache lives outside the repo so a fresh clone reuses it.
KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
SOFTTENANT_CACHE="${SOFTTENANT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/softtenant}"
CP_BIN_DIR="$SOFTTENANT_CACHE/controlplane/kube-$KUBE_VERSION-etcd-$ETCD_VERSION/bin"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# The cached binaries (kubectl matching the server among them) come first on PATH.
export PATH="$CP_BIN_DIR:$PATH"
