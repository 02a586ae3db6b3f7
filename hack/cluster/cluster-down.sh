#!/usr/bin/env bash
# Tears down what cluster-up.sh started in STATE_DIR (default .tmp/cluster), completely and
# idempotently, also after a crashed run: every process of the nodes (kubelets, kube-proxies,
# containerd and its shims, containers), their cgroups, the network namespaces (the veths go
# with them), kube-scheduler and the control plane; kernel sysctls the kubelet changed are put
# back; then the state directory is removed. Running it twice is fine.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
state="${1:-$root/.tmp/cluster}"
prefix="$(cat "$state/prefix" 2>/dev/null || true)"

stop_pid() { # pid: SIGTERM, up to 5 s, then SIGKILL
  local pid="$1"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
stop_all() { # pids: SIGTERM to all, up to 5 s for all of them, then SIGKILL to the rest
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null
  local alive pid
  for _ in $(seq 1 50); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  kill -9 "$@" 2>/dev/null
  return 0
}
netns_pids() { # netns name -> pids of processes in it
  local ino
  ino="$(stat -L -c %i "/run/netns/$1" 2>/dev/null)" || return 0
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "net:[$ino]" ] && echo "${p#/proc/}"
  done
}
cgroup_dirs() { # -> every cgroup directory of the nodes, deepest first
  for h in /sys/fs/cgroup /sys/fs/cgroup/*/; do
    find "${h%/}" -maxdepth 1 -type d -name "$prefix-node*" 2>/dev/null | while read -r d; do
      find "$d" -depth -type d
    done
  done
}

# Only what this state directory's cluster made: without it there is nothing of ours to stop
# (another cluster's namespaces, with another state directory, are left alone).
[ -f "$state/prefix" ] || { rm -rf "$state"; exit 0; }
node_ns=()
while read -r ns _; do [[ "$ns" == "$prefix-"* ]] && node_ns+=("$ns"); done < <(ip netns list 2>/dev/null)
log "tearing down the cluster in $state"

# The kubelets first, so nothing restarts containers while they are being stopped.
log "stopping kubelets and kube-proxies, then containers, containerd and its shims"
daemons=()
for f in "$state"/node*/kubelet.pid "$state"/node*/kube-proxy.pid; do
  [ -f "$f" ] && daemons+=("$(cat "$f")")
done
stop_all "${daemons[@]}"
# Containers: every process in the nodes' cgroups.
for _ in $(seq 1 20); do
  left=0
  while read -r d; do
    for f in "$d/cgroup.procs" "$d/tasks"; do
      [ -f "$f" ] || continue
      # A cgroup can vanish while it is read (ENODEV): that is the goal, not an error.
      { while read -r pid; do kill -9 "$pid" && left=1; done <"$f"; } 2>/dev/null
    done
  done < <(cgroup_dirs)
  [ "$left" = 0 ] && break
  sleep 0.2
done
# Everything else in a node's network namespace: containerd, its shims, the namespace holder.
for ns in "${node_ns[@]}"; do
  # shellcheck disable=SC2046
  stop_all $(netns_pids "$ns")
done
for _ in $(seq 1 25); do
  busy=0
  while read -r d; do rmdir "$d" 2>/dev/null || busy=1; done < <(cgroup_dirs)
  [ "$busy" = 0 ] && break
  sleep 0.2
done
[ -n "$(cgroup_dirs)" ] && log "warning: cgroups left behind: $(cgroup_dirs | tr '\n' ' ')"

log "stopping kube-scheduler and the control plane"
[ -f "$state/kube-scheduler.pid" ] && stop_pid "$(cat "$state/kube-scheduler.pid")"
"$root/hack/controlplane-down.sh" "$state/controlplane"

log "removing network namespaces, restoring sysctls, deleting $state"
for ns in "${node_ns[@]}"; do ip netns del "$ns" 2>/dev/null || log "warning: could not delete netns $ns"; done
# The root ends of the node veths go with the namespaces; remove any a crash left behind.
for l in $(ip -o link show 2>/dev/null | sed -n "s/^[0-9]*: \($prefix-v[0-9]*\)@.*/\1/p"); do ip link del "$l" 2>/dev/null; done

if [ -f "$state/sysctl.saved" ]; then
  while IFS='=' read -r k v; do sysctl -q -w "$k=$v" >/dev/null || log "warning: could not restore $k=$v"; done <"$state/sysctl.saved"
fi
if [ -f "$state/root-iptables.before" ]; then
  if ! diff -q "$state/root-iptables.before" <(iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//') >/dev/null; then
    log "warning: the root namespace's iptables rules changed while the cluster ran (not by the cluster: it never touches them)"
  fi
fi
# Nothing of the nodes is mounted in the root namespace; if something is, do not delete through it.
if findmnt -rn -o TARGET | grep -q "^$state/"; then
  log "warning: mounts left under $state; unmounting"
  findmnt -rn -o TARGET | grep "^$state/" | sort -r | while read -r m; do umount -l "$m"; done
fi
rm -rf "$state"
log "cluster torn down"
