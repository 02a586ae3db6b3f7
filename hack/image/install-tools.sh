#!/usr/bin/env bash
# Installs the Debian tools that build and check the image: mmdebstrap (the base root filesystem),
# buildah (the Containerfile build, no daemon), containerd (its ctr checks that the archive
# imports, as on a node). Only what is missing.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v buildah >/dev/null || need+=(buildah)
command -v containerd >/dev/null || need+=(containerd)
command -v flock >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages for the image build: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
