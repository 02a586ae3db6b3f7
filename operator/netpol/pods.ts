// What the model needs to know about one pod: whether policies apply to it at all, its IPs, and
// its named container ports.
import type { Pod, Protocol } from '../api/networkpolicy.js';
import { portProtocol } from '../api/networkpolicy-defaults.js';
import { canonicalIP } from '../net/address.js';

/**
 * IPs of the pod, in status order: status.podIPs if present (a dual-stack pod has one of each
 * family), else status.podIP. IPv6 addresses are put in canonical form (RFC 5952), which is how
 * ipset and conntrack print them. Anything that is not an IP literal is dropped (a pod with no
 * valid IP is not enforceable).
 */
export function podIPs(pod: Pod): string[] {
  const listed = pod.status?.podIPs?.map((p) => p.ip) ?? [];
  const all = listed.length > 0 ? listed : pod.status?.podIP ? [pod.status.podIP] : [];
  const out: string[] = [];
  for (const ip of all) {
    const canonical = typeof ip === 'string' ? canonicalIP(ip) : undefined;
    if (canonical !== undefined && !out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/**
 * Pods that NetworkPolicy applies to (as targets and as pod peers): they have an IP, have not
 * finished (Succeeded/Failed pods may keep a stale IP that is reused by another pod), and do not
 * share the node's network namespace (hostNetwork pods are reachable only as ipBlock addresses).
 */
export function isEnforceablePod(pod: Pod, ips: readonly string[] = podIPs(pod)): boolean {
  if (pod.spec?.hostNetwork) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return ips.length > 0;
}

/**
 * Enforceable pods scheduled on `node`: what the node's model enforces and what its
 * NodeEnforcement report counts as localPods (the same predicate, so the two never disagree).
 */
export function countEnforceablePodsOn(pods: readonly Pod[], node: string): number {
  let n = 0;
  for (const pod of pods) if (pod.spec?.nodeName === node && isEnforceablePod(pod)) n++;
  return n;
}

function namedPortKey(protocol: Protocol, name: string): string {
  return `${protocol}/${name}`;
}

/**
 * "PROTOCOL/name" -> container port number, from containers and restartable (sidecar) init
 * containers. Container ports default to TCP. The first declaration of a name wins (the API
 * rejects duplicate names within a pod anyway).
 */
export function namedPorts(pod: Pod): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c.ports ?? []) {
      if (!p.name || typeof p.containerPort !== 'number') continue;
      const key = namedPortKey(portProtocol(p), p.name);
      if (!out.has(key)) out.set(key, p.containerPort);
    }
  }
  return out;
}

export function lookupNamedPort(
  ports: ReadonlyMap<string, number>,
  protocol: Protocol,
  name: string,
): number | undefined {
  return ports.get(namedPortKey(protocol, name));
}
