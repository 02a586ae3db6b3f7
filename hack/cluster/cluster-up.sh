#!/usr/bin/env bash
# Starts a local Kubernetes cluster with real nodes: the control plane of hack/controlplane-up.sh
# plus kube-scheduler, and NODES (default 2) nodes, each a network namespace running containerd,
# a kubelet and kube-proxy, with the pause and agnhost images (and the softtenant image, when
# built) imported. Usage: cluster-up.sh [STATE_DIR]  (default .tmp/cluster)
# CLUSTER_FAMILIES (default ipv4,ipv6): the cluster's IP families, primary first: ipv4,ipv6 and
# ipv6,ipv4 are dual-stack (every node, pod and the Service range has both, the primary one
# listed first, as in Node.spec.podCIDRs and the default family of Services); ipv4 alone is the
# IPv4-only cluster.
#
# Network (all addresses live in namespaces made here; the root namespace forwards nothing and
# its firewall is never touched):
#   root   <- veth ->  node i eth0 10.250.0.(10+i)/32   (the API server binds 10.250.0.1, which
#                                                        is on the root end of every such veth)
#   fabric ns bridge <- veth -> node i eth1 10.250.1.i/24  (pod subnets routed over it)
#   pods: 10.244.0.0/16, a /24 per node allocated by kube-controller-manager; Services 10.96.0.0/16
# IPv6, alike: API server fd00:250::1, node i eth0 fd00:250::(10+i)/128, eth1 fd00:250:1::i/64,
#   pods fd00:10:244::/56 (a /64 per node), Services fd00:10:96::/112. DAD is off on the links
#   made here (nodad, accept_dad=0): the addresses are unique by construction.
# On failure everything is torn down again (hack/cluster/cluster-down.sh); a leftover cluster
# from a crashed run is torn down first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=cluster-env.sh
. "$here/cluster-env.sh"
state="${1:-$root/.tmp/cluster}"
nodes="${NODES:-2}"
prefix="${CLUSTER_PREFIX:-stk}"
api_ip=10.250.0.1
cluster_cidr=10.244.0.0/16
service_cidr=10.96.0.0/16 # hack/controlplane-up.sh's --service-cluster-ip-range
api_ip6=fd00:250::1
cluster_cidr6=fd00:10:244::/56
service_cidr6=fd00:10:96::/112
families="${CLUSTER_FAMILIES:-ipv4,ipv6}"
case "$families" in
  ipv4) v6=0 ;;
  ipv4,ipv6) v6=1 ;;
  ipv6,ipv4) v6=1 ;;
  *) log "error: CLUSTER_FAMILIES must be ipv4, ipv4,ipv6 or ipv6,ipv4 (got '$families')"; exit 1 ;;
esac
primary="${families%%,*}"
both() { # v4 value, v6 value -> the cluster's list, primary first
  if [ "$v6" = 0 ]; then echo "$1"; elif [ "$primary" = ipv4 ]; then echo "$1,$2"; else echo "$2,$1"; fi
}
node_ip6() { echo "fd00:250::$((10 + $1))"; }

[ "$(id -u)" = 0 ] || { log "error: cluster-up needs root (network namespaces, mounts, cgroups)"; exit 1; }
"$here/cluster-down.sh" "$state" >/dev/null 2>&1 || true
"$here/install-node-deps.sh"
"$root/hack/build-controlplane.sh"
"$here/build-nodes.sh"

mkdir -p "$state"
state="$(cd "$state" && pwd)"
echo "$nodes" >"$state/nodes"
trap 'rc=$?; if [ $rc -ne 0 ]; then log "cluster-up failed (exit $rc); tearing down"; "$here/cluster-down.sh" "$state"; fi' EXIT

# One cluster per machine: the addresses above are fixed. Another one (another checkout, or
# `make cluster-up` left running) is waited for, for as long as a test run takes. The lock is
# machine-wide, not in the cache: a checkout with its own SOFTTENANT_CACHE shares the addresses.
mkdir -p /run/lock
exec 8>/run/lock/softtenant-cluster.lock
flock 8
for t in $(seq 0 180); do
  other="$(ip -o addr show to "$api_ip/32" 2>/dev/null | awk '{print $2}' | head -n 1)"
  [ -z "$other" ] && break
  [ "$t" = 0 ] && log "another local cluster is running (interface $other has $api_ip); waiting up to 15 min for it to stop (make cluster-down stops the one make cluster-up started)"
  [ "$t" = 180 ] && { log "error: another local cluster is still running; stop it with hack/cluster/cluster-down.sh STATE_DIR"; exit 1; }
  sleep 5
done
# The kubelet sets these kernel-wide sysctls; cluster-down puts the saved values back.
for k in kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
  echo "$k=$(sysctl -n "$k")"
done >"$state/sysctl.saved"
iptables-save 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' >"$state/root-iptables.before" || true
echo "$prefix" >"$state/prefix" # from here on, cluster-down removes what carries this prefix
log "creating $nodes node network namespaces and the fabric between them"
ip netns add "$prefix-fabric"
ip -n "$prefix-fabric" link set lo up
ip -n "$prefix-fabric" link add br0 type bridge
ip -n "$prefix-fabric" link set br0 up
ip netns exec "$prefix-fabric" sysctl -q -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true
for i in $(seq 1 "$nodes"); do
  ns="$prefix-node$i"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  [ "$v6" = 1 ] && ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip link add "$prefix-v$i" type veth peer name eth0 netns "$ns"
  ip addr add "$api_ip/32" dev "$prefix-v$i"
  ip link set "$prefix-v$i" up
  ip route add "10.250.0.$((10 + i))/32" dev "$prefix-v$i" src "$api_ip"
  ip -n "$ns" addr add "10.250.0.$((10 + i))/32" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add "$api_ip/32" dev eth0
  # Host-network clients (the agent) dial Service ClusterIPs; kube-proxy rewrites them in OUTPUT,
  # after the route lookup, so the Service range needs a route (there is no default route).
  ip -n "$ns" route add "$service_cidr" dev eth0
  ip -n "$prefix-fabric" link add "f$i" type veth peer name eth1 netns "$ns"
  ip -n "$prefix-fabric" link set "f$i" master br0 up
  ip -n "$ns" addr add "10.250.1.$i/24" dev eth1
  ip -n "$ns" link set eth1 up
  # Routed pod traffic, and bridged pod-to-pod traffic crossing iptables FORWARD as on any node.
  ip netns exec "$ns" sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  if [ "$v6" = 1 ]; then
    ip -6 addr add "$api_ip6/128" dev "$prefix-v$i" nodad
    ip -6 route add "$(node_ip6 "$i")/128" dev "$prefix-v$i" src "$api_ip6"
    ip -n "$ns" -6 addr add "$(node_ip6 "$i")/128" dev eth0 nodad
    ip -n "$ns" -6 route add "$api_ip6/128" dev eth0
    ip -n "$ns" -6 route add "$service_cidr6" dev eth0
    ip -n "$ns" -6 addr add "fd00:250:1::$i/64" dev eth1 nodad
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.forwarding=1 net.bridge.bridge-nf-call-ip6tables=1
  fi
done

exec 8>&- # the addresses are ours now
# The API server listens on (and advertises, as the kubernetes Service's endpoint) an address of
# the primary family; its certificate names both, and the IPv6 kubernetes ClusterIP.
bind="$api_ip"
[ "$primary" = ipv6 ] && bind="$api_ip6"
[ "$v6" = 1 ] && extra_sans="IP:$api_ip,IP:$api_ip6,IP:${service_cidr6%/*}1"
CP_BIND_ADDRESS="$bind" CP_CLUSTER_CIDR="$(both "$cluster_cidr" "$cluster_cidr6")" \
  CP_SERVICE_CIDR="$(both "$service_cidr" "$service_cidr6")" CP_EXTRA_SANS="${extra_sans:-}" \
  "$root/hack/controlplane-up.sh" "$state/controlplane" >/dev/null
kubeconfig="$state/controlplane/kubeconfig"
pki="$state/controlplane/pki"
kc=(kubectl --kubeconfig "$kubeconfig")
server="$(sed -n 's/^ *server: //p' "$kubeconfig")"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
log "starting kube-scheduler"
"$NODE_BIN_DIR/kube-scheduler" --kubeconfig "$kubeconfig" \
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$(free_port)" --leader-elect=false --v 1 \
  >"$state/kube-scheduler.log" 2>&1 &
echo $! >"$state/kube-scheduler.pid"

client_cert() { # name, subject -> $pki/name.{crt,key}
  openssl req -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -out "$pki/$1.crt" -days 3650 -extfile "$pki/client.ext" 2>/dev/null
}
kubeconfig_for() { # name -> a kubeconfig with that client certificate
  cat <<KC
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$server", certificate-authority: "$pki/ca.crt"}}]
users: [{name: $1, user: {client-certificate: "$pki/$1.crt", client-key: "$pki/$1.key"}}]
contexts: [{name: local, context: {cluster: local, user: $1}}]
current-context: local
KC
}
client_cert kube-proxy "/CN=system:kube-proxy"

import_images=("$NODE_IMAGE_DIR/pause.tar" "$NODE_IMAGE_DIR/agnhost.tar")
# make passes IMAGE_ARCHIVE relative to the repository root; ctr runs in the node's namespaces.
softtenant_archive="${IMAGE_ARCHIVE:-.tmp/image/softtenant.tar}"
[[ "$softtenant_archive" = /* ]] || softtenant_archive="$root/$softtenant_archive"
[ -f "$softtenant_archive" ] && import_images+=("$softtenant_archive")

for i in $(seq 1 "$nodes"); do
  name="node$i" ns="$prefix-node$i" dir="$state/node$i" ip="10.250.0.$((10 + i))"
  node_ips="$(both "$ip" "$(node_ip6 "$i")")"
  # The kubelet serves (exec, logs) on its primary address, which the API server dials: on both.
  kubelet_address="$ip"
  [ "$v6" = 1 ] && kubelet_address="::"
  mkdir -p "$dir"/{containerd,kubelet,var-log/pods,cni/net.d,cni/networks}
  log "starting $name: namespace $ns, containerd"
  ip netns exec "$ns" "$here/node-ns.sh" "$dir" >"$dir/ns.log" 2>&1 &
  echo $! >"$dir/ns.pid"
  for _ in $(seq 1 100); do [ -f "$dir/ns-ready" ] && break; sleep 0.1; done
  [ -f "$dir/ns-ready" ] || { log "node namespace $ns did not come up"; cat "$dir/ns.log" >&2; exit 1; }
  in_node=(nsenter --target "$(cat "$dir/ns.pid")" --mount --net --)
  # cgroup v1 here: a cgroup root per node under every hierarchy, removed by cluster-down.
  for h in /sys/fs/cgroup/*/; do [ -d "$h" ] && mkdir -p "$h$prefix-$name"; done
  # A new cpuset cgroup starts with no CPUs or memory nodes; give it the machine's.
  if [ -d /sys/fs/cgroup/cpuset ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/$prefix-$name/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/$prefix-$name/cpuset.mems"
  fi
  cat >"$dir/containerd.toml" <<TOML
version = 2
root = "$dir/containerd/root"
state = "/run/containerd/state"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: never lower a container's oom_score_adj below ours.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
TOML
  "${in_node[@]}" containerd --config "$dir/containerd.toml" >"$dir/containerd.log" 2>&1 &
  echo $! >"$dir/containerd.pid"
  for _ in $(seq 1 100); do "${in_node[@]}" ctr -a /run/containerd/containerd.sock version >/dev/null 2>&1 && break; sleep 0.2; done
  for img in "${import_images[@]}"; do
    log "$name: importing $(basename "$img")"
    "${in_node[@]}" ctr -a /run/containerd/containerd.sock -n k8s.io images import "$img" >/dev/null
  done

  client_cert "kubelet-$name" "/O=system:nodes/CN=system:node:$name"
  kubeconfig_for "kubelet-$name" >"$dir/kubelet.kubeconfig"
  kubeconfig_for kube-proxy >"$dir/kube-proxy.kubeconfig"
  cat >"$dir/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 only.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$prefix-$name
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
address: "$kubelet_address"
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
failSwapOn: false
# No registry is reachable: images were imported and must never be garbage-collected.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
serializeImagePulls: false
YAML
  log "$name: starting kubelet and kube-proxy ($node_ips)"
  "${in_node[@]}" "$NODE_BIN_DIR/kubelet" --config "$dir/kubelet.yaml" --kubeconfig "$dir/kubelet.kubeconfig" \
    --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" --hostname-override "$name" --node-ip "$node_ips" --v 1 \
    >"$dir/kubelet.log" 2>&1 &
  echo $! >"$dir/kubelet.pid"
  cat >"$dir/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$dir/kube-proxy.kubeconfig"}
hostnameOverride: $name
mode: iptables
clusterCIDR: "$(both "$cluster_cidr" "$cluster_cidr6")"
metricsBindAddress: 127.0.0.1:10249
# Zero leaves the kernel-wide conntrack table size and timeouts as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  "${in_node[@]}" "$NODE_BIN_DIR/kube-proxy" --config "$dir/kube-proxy.yaml" --v 1 >"$dir/kube-proxy.log" 2>&1 &
  echo $! >"$dir/kube-proxy.pid"
done

# Pod subnets come from the controller manager once a node registers: then the node gets its
# CNI config, and every other node (and the root namespace, for replies from the API server)
# a route to that subnet.
log "waiting for the nodes to register and get pod subnets ($families)"
want_cidrs=1
[ "$v6" = 1 ] && want_cidrs=2
declare -A cidr cidr6
for i in $(seq 1 "$nodes"); do
  for t in $(seq 1 240); do
    read -ra cs <<<"$("${kc[@]}" get node "node$i" -o jsonpath='{.spec.podCIDRs[*]}' 2>/dev/null || true)"
    [ "${#cs[@]}" = "$want_cidrs" ] && break
    kill -0 "$(cat "$state/node$i/kubelet.pid")" 2>/dev/null || { log "kubelet on node$i exited:"; tail -n 20 "$state/node$i/kubelet.log" >&2; exit 1; }
    [ "$t" = 240 ] && { log "node$i got no pod subnet in 120s"; tail -n 20 "$state/node$i/kubelet.log" >&2; exit 1; }
    sleep 0.5
  done
  for c in "${cs[@]}"; do
    if [[ "$c" == *:* ]]; then cidr6[$i]="$c"; else cidr[$i]="$c"; fi
  done
done
for i in $(seq 1 "$nodes"); do
  ns="$prefix-node$i" dir="$state/node$i"
  # host-local hands out one address per range, a pod gets both; the kubelet lists the one of
  # the node's primary family first in status.podIPs.
  ranges="[{\"subnet\": \"${cidr[$i]}\"}]"
  routes='{"dst": "0.0.0.0/0"}'
  if [ "$v6" = 1 ]; then
    ranges="$(both "$ranges" "[{\"subnet\": \"${cidr6[$i]}\"}]")"
    routes="$(both "$routes" '{"dst": "::/0"}')"
  fi
  cat >"$dir/cni/net.d/10-softtenant.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "softtenant-local",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$dir/cni/networks",
        "ranges": [$ranges], "routes": [$routes]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  ip route add "${cidr[$i]}" via "10.250.0.$((10 + i))" dev "$prefix-v$i" src "$api_ip"
  for j in $(seq 1 "$nodes"); do
    [ "$i" = "$j" ] || ip -n "$prefix-node$j" route add "${cidr[$i]}" via "10.250.1.$i" dev eth1
  done
  if [ "$v6" = 1 ]; then
    ip -6 route add "${cidr6[$i]}" via "$(node_ip6 "$i")" dev "$prefix-v$i" src "$api_ip6"
    for j in $(seq 1 "$nodes"); do
      [ "$i" = "$j" ] || ip -n "$prefix-node$j" -6 route add "${cidr6[$i]}" via "fd00:250:1::$i" dev eth1
    done
  fi
done
log "waiting for $nodes nodes to be Ready"
if ! "${kc[@]}" wait --for=condition=Ready node --all --timeout=180s >/dev/null; then
  "${kc[@]}" get nodes -o wide >&2 || true
  exit 1
fi
"${kc[@]}" get nodes -o wide >&2
log "cluster ready: export KUBECONFIG=$kubeconfig"
echo "$kubeconfig"
