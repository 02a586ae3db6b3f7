#!/usr/bin/env bash
# Runs inside `ip netns exec NODE_NETNS` (a fresh mount namespace, slave to the root one, with
# a /sys of the node's network namespace): prepares the node's mounts and then holds the
# namespace open. containerd, the kubelet and kube-proxy join it with nsenter, so the volumes the
# kubelet mounts are the ones runc sees, and nothing mounted here shows in the root namespace.
# Usage: node-ns.sh NODE_DIR
set -euo pipefail
dir="$1"
# `ip netns exec` mounted a new sysfs over /sys, which hides the cgroup hierarchies: mount the
# same ones again (this machine has cgroup v1 only; v2 is handled too).
if ! mountpoint -q /sys/fs/cgroup; then
  if grep -q ' /sys/fs/cgroup cgroup2 ' /proc/1/mounts; then
    mount -t cgroup2 cgroup2 /sys/fs/cgroup
  else
    mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
    while read -r _ path type opts _; do
      [ "$type" = cgroup ] || continue
      mkdir -p "$path"
      mount -t cgroup -o "$opts" cgroup "$path"
    done </proc/1/mounts
  fi
fi
# A private /run: containerd's socket and state, the pod network namespaces it creates in
# /run/netns, and the node's xtables lock, all invisible to the root namespace.
mount -t tmpfs -o mode=755 run /run
mkdir -p /run/netns /run/lock
# The kubelet links container logs in /var/log/containers: the node's own, not the machine's.
mkdir -p "$dir/var-log"
mount --bind "$dir/var-log" /var/log
touch "$dir/ns-ready"
exec sleep infinity
