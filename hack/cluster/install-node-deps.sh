#!/usr/bin/env bash
# Installs the Debian packages a node needs (only those missing): containerd, runc and the CNI
# plugins (bridge, host-local, portmap, loopback).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
for p in bridge host-local portmap loopback; do
  [ -x "/usr/lib/cni/$p" ] || { need+=(containernetworking-plugins); break; }
done
command -v flock >/dev/null || need+=(util-linux)
command -v iptables-save >/dev/null || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages for the nodes: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
