# Sourced by the build scripts: a throwaway Go module that depends on k8s.io/kubernetes
# $KUBE_VERSION, so its commands and test packages can be built from the Go module proxy.
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, ...) as v0.0.0
# with replaces into ./staging that do not apply to a dependent module; the module pins each of
# them to the published version of the same release instead (v1.36.3 -> v0.36.3).

# The -ldflags that stamp the version the binaries report (kubectl version, /version, the
# kubelet's node status), as the release builds do.
kube_ldflags() {
  local minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  printf '%s' "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
}

# kube_module NAME TOOLS [PATH CONTENT]...: makes the current directory that module, with
# tools.go holding TOOLS (printf format: blank imports of what is built) and each further PATH
# holding its CONTENT. Returns at once when the directory already holds exactly these files.
kube_module() {
  local name="$1" tools="$2"
  shift 2
  local current=1 args=("$@")
  [ -f go.mod ] && [ "$(cat tools.go 2>/dev/null)" = "$(printf "$tools")" ] || current=0
  while [ $# -ge 2 ]; do
    [ "$(cat "$1" 2>/dev/null)" = "$(printf "$2")" ] || current=0
    shift 2
  done
  [ "$current" = 1 ] && return 0
  log "preparing a throwaway module $name for k8s.io/kubernetes $KUBE_VERSION (staging modules pinned to v0.${KUBE_VERSION#v1.})"
  rm -f go.mod go.sum
  go mod init "$name" >/dev/null 2>&1
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod" | sort -u | while read -r m; do
    echo "replace $m => $m v0.${KUBE_VERSION#v1.}" >>go.mod
  done
  go get "k8s.io/kubernetes@$KUBE_VERSION" 2>&1 | tail -n 3 >&2
  printf "$tools" >tools.go
  set -- "${args[@]}"
  while [ $# -ge 2 ]; do
    mkdir -p "$(dirname "$1")"
    printf "$2" >"$1"
    shift 2
  done
  go mod tidy 2>&1 | tail -n 3 >&2
}
