#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Debian tools for the dataplane and the
# control plane (only those missing), then the npm packages when the lock file changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/controlplane-env.sh"
root="$(cd "$here/.." && pwd)"

need=()
command -v iptables-restore >/dev/null || need+=(iptables)
command -v ipset >/dev/null || need+=(ipset)
command -v ip >/dev/null || need+=(iproute2)
command -v conntrack >/dev/null || need+=(conntrack)
# nsenter runs commands in a named network namespace (the lab, the tests, an agent with --netns).
command -v nsenter >/dev/null || need+=(util-linux)
command -v openssl >/dev/null || need+=(openssl)
# The neighbour-discovery lab test sends router solicitations (rdisc6) and advertisements (ra6).
command -v rdisc6 >/dev/null || need+=(ndisc6)
command -v ra6 >/dev/null || need+=(ipv6toolkit)
command -v lua5.4 >/dev/null || need+=(lua5.4)
# Argo CD runs health checks in gopher-lua (Lua 5.1): the health.lua test runs under both.
command -v lua5.1 >/dev/null || need+=(lua5.1)
command -v node >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cd "$root"
stamp="node_modules/.softtenant-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
