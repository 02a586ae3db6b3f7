// A cluster snapshot (the Pods of `kubectl get ns,pods,netpol -A -o yaml`) as lab hosts: every
// pod that has an IP and a node, is not hostNetwork and has not finished becomes a pod netns
// with its IP and containerPorts. Labels stay in the snapshot: they matter to the render, not to
// the wires.
import type { Pod } from '../../operator/api/networkpolicy.js';
import type { LabExternalSpec, LabPodSpec, LabPort, LabSpec } from './spec.js';

export function labPodsFromSnapshot(pods: readonly Pod[]): LabPodSpec[] {
  const out: LabPodSpec[] = [];
  for (const p of pods) {
    const ips = (p.status?.podIPs ?? []).map((x) => x.ip);
    if (ips.length === 0 && p.status?.podIP) ips.push(p.status.podIP);
    // A lab pod has an IPv4 address, an IPv6 one, or both (dual-stack).
    const ip = ips.find((x) => !x.includes(':'));
    const ip6 = ips.find((x) => x.includes(':'));
    const node = p.spec.nodeName;
    const phase = p.status?.phase;
    if ((!ip && !ip6) || !node || p.spec.hostNetwork || phase === 'Succeeded' || phase === 'Failed') continue;
    const ports: LabPort[] = [];
    for (const c of [...p.spec.containers, ...(p.spec.initContainers ?? [])]) {
      for (const cp of c.ports ?? []) ports.push({ port: cp.containerPort, protocol: cp.protocol ?? 'TCP' });
    }
    out.push({
      namespace: p.metadata.namespace ?? 'default',
      name: p.metadata.name,
      node,
      ...(ip !== undefined ? { ip } : {}),
      ...(ip6 !== undefined ? { ip6 } : {}),
      ports,
    });
  }
  return out;
}

/** "name=ip@node" (the CLI's --external flag). */
export function parseExternal(text: string): LabExternalSpec {
  const m = /^([a-z0-9][a-z0-9.-]*)=(\d+\.\d+\.\d+\.\d+)@(\S+)$/.exec(text);
  if (!m) throw new Error(`--external ${text}: expected NAME=IP@NODE, e.g. x1=172.17.1.5@n1`);
  return { name: m[1], ip: m[2], node: m[3] };
}

/** "tcp/80", "udp/53", "80" (TCP). */
export function parsePort(text: string): LabPort {
  const m = /^(?:(tcp|udp|sctp)\/)?(\d+)$/i.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || !(port >= 1 && port <= 65535)) throw new Error(`port ${text}: expected [tcp|udp|sctp/]NUMBER`);
  return { port, protocol: (m[1]?.toUpperCase() ?? 'TCP') as LabPort['protocol'] };
}

export function labSpecFromSnapshot(
  pods: readonly Pod[],
  extra: { externals?: LabExternalSpec[]; servePorts?: LabPort[]; nodes?: string[] },
): LabSpec {
  return {
    pods: labPodsFromSnapshot(pods),
    externals: extra.externals ?? [],
    servePorts: extra.servePorts ?? [],
    ...(extra.nodes ? { nodes: extra.nodes } : {}),
  };
}
