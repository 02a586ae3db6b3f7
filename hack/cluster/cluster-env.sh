# Sourced by hack/cluster/*: where the node binaries and images are cached, and the names the
# kubelet and the upstream e2e expect (k8s.io/kubernetes test/utils/image/manifest.go).
# shellcheck source=../controlplane-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/../controlplane-env.sh"
NODE_CACHE="$SOFTTENANT_CACHE/nodes/kube-$KUBE_VERSION"
NODE_BIN_DIR="$NODE_CACHE/bin"
NODE_IMAGE_DIR="$NODE_CACHE/images"
PAUSE_IMAGE="registry.k8s.io/pause:3.10.2"
AGNHOST_IMAGE="registry.k8s.io/e2e-test-images/agnhost:2.63.0"
export PATH="$NODE_BIN_DIR:$PATH"
