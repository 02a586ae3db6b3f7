#!/usr/bin/env bash
# Starts a local control plane on loopback: etcd, kube-apiserver (RBAC, client-cert auth) and
# kube-controller-manager (namespace deletion, garbage collection, default ServiceAccounts).
# Usage: hack/controlplane-up.sh STATE_DIR   -> writes STATE_DIR/kubeconfig and pid files.
# Stop with hack/controlplane-down.sh STATE_DIR. Builds the binaries first if they are not cached.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/controlplane-env.sh"
state="${1:?usage: controlplane-up.sh STATE_DIR}"
mkdir -p "$state"
state="$(cd "$state" && pwd)"
# CP_BIND_ADDRESS: where the API server listens and what it advertises (default loopback);
# hack/cluster/cluster-up.sh sets the address its nodes reach. CP_CLUSTER_CIDR makes the
# controller manager allocate each node a pod subnet from it.
bind="${CP_BIND_ADDRESS:-127.0.0.1}"
cluster_cidr="${CP_CLUSTER_CIDR:-}"
# Dual-stack (hack/cluster/cluster-up.sh): CP_SERVICE_CIDR and CP_CLUSTER_CIDR may list one range
# per family, primary first; CP_ADVERTISE_ADDRESS (default the bind address) must be of the
# primary Service family, and CP_EXTRA_SANS adds "IP:..." entries to the serving certificate.
service_cidr="${CP_SERVICE_CIDR:-10.96.0.0/16}"
advertise="${CP_ADVERTISE_ADDRESS:-$bind}"
extra_sans="${CP_EXTRA_SANS:-}"
node_cidr_mask=(--node-cidr-mask-size 24)
[[ "$cluster_cidr" == *,* ]] && node_cidr_mask=(--node-cidr-mask-size-ipv4 24 --node-cidr-mask-size-ipv6 64)
host="$advertise"
[[ "$host" == *:* ]] && host="[$host]"
"$here/build-controlplane.sh"

free_port() { python3 - 2>/dev/null <<'PY' || node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()
PY
}
etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port); kcm_port=$(free_port)
pki="$state/pki"; mkdir -p "$pki"
log "generating certificates in $pki"
(
  cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=softtenant-local-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
  # 10.96.0.1 is the kubernetes Service's ClusterIP, which in-cluster clients dial.
  printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:%s,IP:10.96.0.1%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n' "$bind" "$advertise" "${extra_sans:+,$extra_sans}" >apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=softtenant-admin" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext 2>/dev/null
  # The API server's identity towards kubelets (exec, logs, port-forward).
  openssl req -newkey rsa:2048 -nodes -keyout kubelet-client.key -out kubelet-client.csr -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" 2>/dev/null
  openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out kubelet-client.crt -days 3650 -extfile client.ext 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
)

cat >"$state/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://$host:$api_port
    certificate-authority: $pki/ca.crt
users:
- name: admin
  user:
    client-certificate: $pki/admin.crt
    client-key: $pki/admin.key
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
KC

log "starting etcd on 127.0.0.1:$etcd_port"
"$CP_BIN_DIR/etcd" --name local --data-dir "$state/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "local=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn \
  >"$state/etcd.log" 2>&1 &
echo $! >"$state/etcd.pid"

log "starting kube-apiserver $KUBE_VERSION on https://$host:$api_port"
"$CP_BIN_DIR/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address "$bind" --advertise-address "$advertise" --secure-port "$api_port" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" --authorization-mode Node,RBAC \
  --enable-admission-plugins NodeRestriction \
  --kubelet-client-certificate "$pki/kubelet-client.crt" --kubelet-client-key "$pki/kubelet-client.key" \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --service-cluster-ip-range "$service_cidr" --allow-privileged=true --cert-dir "$state/apiserver-certs" \
  --storage-media-type application/json --v 1 \
  >"$state/kube-apiserver.log" 2>&1 &
echo $! >"$state/kube-apiserver.pid"

kc=(kubectl --kubeconfig "$state/kubeconfig")
for i in $(seq 1 120); do
  if "${kc[@]}" get --raw /readyz >/dev/null 2>&1; then break; fi
  if ! kill -0 "$(cat "$state/kube-apiserver.pid")" 2>/dev/null; then
    log "kube-apiserver exited; last lines of its log:"; tail -n 20 "$state/kube-apiserver.log" >&2; exit 1
  fi
  [ "$i" = 120 ] && { log "kube-apiserver not ready after 60s"; tail -n 20 "$state/kube-apiserver.log" >&2; exit 1; }
  sleep 0.5
done
log "kube-apiserver ready"

log "starting kube-controller-manager"
"$CP_BIN_DIR/kube-controller-manager" --kubeconfig "$state/kubeconfig" \
  --authentication-kubeconfig "$state/kubeconfig" --authorization-kubeconfig "$state/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$kcm_port" --leader-elect=false \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=false --cert-dir "$state/kcm-certs" --v 1 \
  --service-cluster-ip-range "$service_cidr" \
  ${cluster_cidr:+--allocate-node-cidrs --cluster-cidr "$cluster_cidr" "${node_cidr_mask[@]}"} \
  >"$state/kube-controller-manager.log" 2>&1 &
echo $! >"$state/kube-controller-manager.pid"

# The default ServiceAccount appearing shows the controller manager is working.
for i in $(seq 1 120); do
  "${kc[@]}" -n default get serviceaccount default >/dev/null 2>&1 && break
  [ "$i" = 120 ] && { log "kube-controller-manager did not create the default ServiceAccount in 60s"; tail -n 20 "$state/kube-controller-manager.log" >&2; exit 1; }
  sleep 0.5
done
log "control plane ready: export KUBECONFIG=$state/kubeconfig"
echo "$state/kubeconfig"
