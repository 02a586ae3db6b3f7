// The naive render (the first sketch of the agent): one chain per local pod and direction, and
// one rule per peer address x port in it (`-s 10.1.2.3/32 -p tcp --dport 80 -j RETURN`). It
// exists only so the benchmark and the scaling test can show what matching peers through ipsets
// saves; the agent never programs it, so it lives here and not in operator/.
// Simplification: ipBlock excepts are not rendered (the figures are about rule counts).
import { ipFamily } from '../../operator/net/address.js';
import {
  objectKey,
  type Direction,
  type LocalPodModel,
  type NodeModel,
  type PolicyModel,
} from '../../operator/netpol/types.js';
import { createHash } from 'node:crypto';
import { CHAIN_PREFIX, TOP_CHAIN } from '../../operator/dataplane/names.js';
import { FORWARD_HOOK, portMatch } from '../../operator/dataplane/render.js';
import type { ChainSpec, Ruleset } from '../../operator/dataplane/types.js';

/** Per-pod chain: STN-NI-<hash> / STN-NE-<hash>. */
function naivePodChainName(direction: 'ingress' | 'egress', podKey: string): string {
  const h = createHash('sha256').update(`naive|${direction}|${podKey}`).digest('hex').slice(0, 16);
  return `${CHAIN_PREFIX}N${direction === 'ingress' ? 'I' : 'E'}-${h}`;
}

function hostMatch(flag: '-s' | '-d', address: string): string {
  return `${flag} ${address.includes('/') ? address : `${address}/32`}`;
}

function podRules(pod: LocalPodModel, policies: readonly PolicyModel[], direction: Direction): string[] {
  const flag = direction === 'ingress' ? '-s' : '-d';
  const v4 = (a: string): boolean => ipFamily(a.split('/')[0]) === 4;
  const out: string[] = [];
  for (const policy of policies) {
    for (const rule of direction === 'ingress' ? policy.ingress : policy.egress) {
      const peers = rule.peers.any
        ? ['']
        : [...rule.peers.podIPs, ...rule.peers.blocks.map((b) => b.cidr)]
            .filter(v4)
            .map((a) => hostMatch(flag, a));
      const ports = rule.anyPort ? [''] : rule.ports.map(portMatch);
      for (const peer of peers)
        for (const port of ports) out.push([peer, port, '-j RETURN'].filter(Boolean).join(' '));
      for (const g of rule.named) {
        const port = portMatch({ protocol: g.protocol, port: g.port });
        if (direction === 'ingress') {
          if (pod.ips.some((ip) => g.podIPs.includes(ip)))
            for (const peer of peers) out.push([peer, port, '-j RETURN'].filter(Boolean).join(' '));
        } else {
          for (const ip of g.podIPs.filter(v4)) out.push(`${hostMatch('-d', ip)} ${port} -j RETURN`);
        }
      }
    }
  }
  out.push('-p tcp -j REJECT --reject-with tcp-reset', '-j REJECT --reject-with icmp-port-unreachable');
  return out;
}

/** Benchmark-only: the per-pod-pair ruleset for the same model (see the file comment). */
export function renderNaiveRuleset(model: NodeModel): Ruleset {
  const policies = new Map(model.policies.map((p) => [objectKey(p.namespace, p.name), p]));
  const top: string[] = ['-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN'];
  const chains: ChainSpec[] = [];
  for (const direction of ['egress', 'ingress'] as const) {
    for (const pod of model.pods) {
      const keys = direction === 'ingress' ? pod.ingressPolicies : pod.egressPolicies;
      if (keys.length === 0) continue;
      const name = naivePodChainName(direction, objectKey(pod.namespace, pod.name));
      const selected = keys.map((k) => policies.get(k) as PolicyModel);
      chains.push({ name, rules: podRules(pod, selected, direction) });
      for (const ip of pod.ips.filter((a) => ipFamily(a) === 4))
        top.push(`${hostMatch(direction === 'ingress' ? '-d' : '-s', ip)} -j ${name}`);
    }
  }
  chains.sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    family: 4,
    ipsets: [],
    chains: [{ name: TOP_CHAIN, rules: top }, ...chains],
    hooks: [FORWARD_HOOK],
  };
}
