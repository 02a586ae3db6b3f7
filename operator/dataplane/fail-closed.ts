// Fail-closed for new pods (issue 13). Pure: cluster objects + the node's render -> the same
// render with a guard at the end of STN-FORWARD.
//
// The window: the CNI gives a pod an address, and the pod can send and receive, before the
// kubelet has written that address to the API server and the agent's watch has seen it. Until
// then no rule names the address, so an isolated pod is open both ways.
//
// What the agent does know earlier: the pod itself. The scheduler's binding (spec.nodeName) is
// visible before the kubelet has even started the sandbox, and the pod's labels and namespace
// say which policies will select it. So the guard is:
//
//   STN-FORWARD ... (dispatch to the pod-group chains, as before)
//     last: -j STN-NEWPOD
//   STN-NEWPOD (rules present only while "armed"):
//     src in stn-podnet-4 and src not in stn-known-4 -> REJECT   (egress armed)
//     dst in stn-podnet-4 and dst not in stn-known-4 -> REJECT   (ingress armed)
//
// stn-podnet-4 holds the node's pod ranges (Node.spec.podCIDRs or --pod-cidr), stn-known-4 the
// addresses of every local pod the agent has programmed (isolated or not). A direction is armed
// while some pod bound to this node has no address yet and a policy of its namespace selects it
// for that direction ("awaiting"). So an isolated pod can never be reached, nor reach anyone,
// on the address the CNI gave it before its own rules are in; a pod of a namespace that no
// policy isolates is reachable at once as long as no isolated pod is starting on the same node
// at the same moment (if one is, it waits for its address to be programmed: the trade-off,
// docs/enforcement.md). "strict" arms both directions always.
//
// Host-network pods and the node's own traffic (kubelet probes) go through INPUT/OUTPUT, never
// FORWARD, so the guard never sees them. RELATED,ESTABLISHED is returned at the top of
// STN-FORWARD, so only new connections are refused.
//
// Address families: one FamilyGuard per family; the IPv4 ruleset takes FAMILIES[4], the IPv6
// ruleset FAMILIES[6] (its sets are family inet6 because the ruleset is; icmp6 reject).
import type { Pod } from '../api/networkpolicy.js';
import type { Cidr, Family } from '../net/address.js';
import { ipFamily, parseCidr } from '../net/address.js';
import { effectivePolicyTypes } from '../netpol/model.js';
import { cnpGovernance } from '../cnp/awaiting.js';
import { podIPs } from '../netpol/pods.js';
import { compileSelector, type CompiledSelector } from '../netpol/selector.js';
import type { ClusterObjects, NodeModel } from '../netpol/types.js';
import { objectKey } from '../netpol/types.js';
import { CHAIN_PREFIX, IPSET_PREFIX, TOP_CHAIN } from './names.js';
import { summarizeRuleset, type NodeRender } from './render-node.js';
import type { ChainSpec, IpsetSpec, Ruleset } from './types.js';

/** `--fail-closed`: off, on (armed while an isolated pod awaits its address), strict (always armed). */
export type FailClosedMode = 'off' | 'on' | 'strict';

export function parseFailClosedMode(text: string): FailClosedMode {
  switch (text.trim().toLowerCase()) {
    case 'false':
    case 'off':
      return 'off';
    case 'true':
    case 'on':
      return 'on';
    case 'strict':
      return 'strict';
    default:
      throw new Error(`--fail-closed must be true, false or strict (got '${text}')`);
  }
}

/** The jump target at the end of STN-FORWARD. */
export const NEW_POD_CHAIN = `${CHAIN_PREFIX}NEWPOD`;

/** What differs between address families; everything else is the same code. */
export interface FamilyGuard {
  family: Family;
  /** The node's pod ranges of this family (hash:net). */
  podNetSet: string;
  /** Programmed local pod addresses of this family (hash:ip). */
  knownSet: string;
  /** REJECT for what is not TCP. */
  rejectOther: string;
}

export const FAMILIES: Record<Family, FamilyGuard> = {
  4: {
    family: 4,
    podNetSet: `${IPSET_PREFIX}podnet-4`,
    knownSet: `${IPSET_PREFIX}known-4`,
    rejectOther: '-j REJECT --reject-with icmp-port-unreachable',
  },
  6: {
    family: 6,
    podNetSet: `${IPSET_PREFIX}podnet-6`,
    knownSet: `${IPSET_PREFIX}known-6`,
    rejectOther: '-j REJECT --reject-with icmp6-port-unreachable',
  },
};

/** Which directions refuse unprogrammed local addresses. */
export interface Armed {
  ingress: boolean;
  egress: boolean;
}

/** Parses pod ranges (Node.spec.podCIDRs or --pod-cidr); throws on a malformed one. */
export function parsePodCidrs(texts: readonly string[]): Cidr[] {
  return texts.map((t) => {
    const c = parseCidr(t.trim());
    if (c.hostBits) throw new Error(`pod CIDR "${t}" has host bits set (expected ${c.text})`);
    return c;
  });
}

/**
 * The guard's sets and chain for one family. `armed` decides the chain's rules; the sets are
 * kept current either way, so arming and disarming rewrite one small chain and nothing else.
 */
export function renderFamilyGuard(
  guard: FamilyGuard,
  podCidrs: readonly Cidr[],
  knownIPs: readonly string[],
  armed: Armed,
): { ipsets: IpsetSpec[]; chain: ChainSpec } {
  const nets = podCidrs.filter((c) => c.family === guard.family).map((c) => c.text);
  const known = [...new Set(knownIPs.filter((ip) => ipFamily(ip) === guard.family))].sort();
  const rules: string[] = [];
  const refuse = (flag: 'src' | 'dst', why: string): void => {
    const match = `-m set --match-set ${guard.podNetSet} ${flag} -m set ! --match-set ${guard.knownSet} ${flag}`;
    const comment = `-m comment --comment "softtenant: ${why} of a local pod not programmed yet"`;
    rules.push(`-p tcp ${match} ${comment} -j REJECT --reject-with tcp-reset`);
    rules.push(`${match} ${comment} ${guard.rejectOther}`);
  };
  if (nets.length > 0) {
    if (armed.egress) refuse('src', 'egress');
    if (armed.ingress) refuse('dst', 'ingress');
  }
  return {
    ipsets: [
      { name: guard.knownSet, type: 'hash:ip', entries: known },
      { name: guard.podNetSet, type: 'hash:net', entries: nets.sort() },
    ],
    chain: { name: NEW_POD_CHAIN, rules },
  };
}

/** A pod bound to `node` that has no address yet and will be enforced when it has one. */
function awaitsAddress(pod: Pod, node: string): boolean {
  if (pod.spec?.nodeName !== node || pod.spec.hostNetwork) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp) return false;
  return podIPs(pod).length === 0;
}

interface CompiledPolicy {
  selector: CompiledSelector | undefined;
  ingress: boolean;
  egress: boolean;
}

/**
 * Which local pods await an address while a policy isolates them, per direction. A policy whose
 * podSelector does not compile counts as selecting every pod of its namespace (fail closed).
 */
export class AwaitingPods {
  private readonly compiled = new WeakMap<object, CompiledPolicy>();

  constructor(private readonly node: string) {}

  private policy(p: ClusterObjects['policies'][number]): CompiledPolicy {
    let c = this.compiled.get(p);
    if (!c) {
      let selector: CompiledSelector | undefined;
      try {
        selector = compileSelector(p.spec?.podSelector, 'spec.podSelector');
      } catch {
        selector = undefined;
      }
      const types = effectivePolicyTypes(p);
      this.compiled.set(p, (c = { selector, ingress: types.ingress, egress: types.egress }));
    }
    return c;
  }

  /** "namespace/name" of the awaiting pods isolated for each direction (sorted). */
  find(objects: ClusterObjects): { ingress: string[]; egress: string[] } {
    const out = { ingress: [] as string[], egress: [] as string[] };
    const waiting = objects.pods.filter((p) => awaitsAddress(p, this.node));
    if (waiting.length === 0) return out;
    const byNamespace = new Map<string, CompiledPolicy[]>();
    for (const p of objects.policies) {
      const ns = p.metadata.namespace ?? 'default';
      const list = byNamespace.get(ns) ?? [];
      list.push(this.policy(p));
      byNamespace.set(ns, list);
    }
    // ClusterNetworkPolicy subjects arm it as NetworkPolicies do (operator/cnp/awaiting.ts).
    const governed = cnpGovernance(objects.clusterNetworkPolicies ?? [], objects.namespaces);
    for (const pod of waiting) {
      const ns = pod.metadata.namespace ?? 'default';
      const labels = pod.metadata.labels ?? {};
      const selecting = (byNamespace.get(ns) ?? []).filter(
        (c) => c.selector === undefined || c.selector.matches(labels),
      );
      const key = objectKey(ns, pod.metadata.name);
      const byCnp = governed(pod);
      if (selecting.some((c) => c.ingress) || byCnp.ingress) out.ingress.push(key);
      if (selecting.some((c) => c.egress) || byCnp.egress) out.egress.push(key);
    }
    out.ingress.sort();
    out.egress.sort();
    return out;
  }
}

/** The addresses the render programs for local pods (what stn-known-* holds). */
export function programmedAddresses(model: NodeModel): string[] {
  return model.pods.flatMap((p) => p.ips);
}

/** Sets sorted by name, as the render orders them. */
function sortedByName<T extends { name: string }>(items: readonly T[], extra: readonly T[]): T[] {
  return [...items, ...extra].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface GuardedRender extends NodeRender {
  /** Pods awaiting an address that a policy isolates, per direction (what armed the guard). */
  awaiting: { ingress: string[]; egress: string[] };
  armed: Armed;
}

/**
 * Adds the guard to each render of one node. Stateful only to keep the identity of unchanged
 * chain lists (the applier skips its chain diff when the chains array is the one it applied
 * last): a render whose base chains and armed state did not change reuses the previous result's.
 * One memo per family: a dual-stack render guards its IPv6 ruleset with FAMILIES[6] the same way.
 */
export class NewPodGuard {
  private readonly awaitingPods: AwaitingPods;
  private readonly last = new Map<
    Family,
    { base: readonly ChainSpec[]; armedKey: string; chains: ChainSpec[] }
  >();

  constructor(
    node: string,
    private readonly mode: Exclude<FailClosedMode, 'off'>,
    private readonly podCidrs: readonly Cidr[],
  ) {
    this.awaitingPods = new AwaitingPods(node);
  }

  apply(render: NodeRender, objects: ClusterObjects): GuardedRender {
    const awaiting = this.awaitingPods.find(objects);
    const armed: Armed =
      this.mode === 'strict'
        ? { ingress: true, egress: true }
        : { ingress: awaiting.ingress.length > 0, egress: awaiting.egress.length > 0 };
    const known = programmedAddresses(render.model);
    const ruleset = this.guard(render.ruleset, FAMILIES[4], known, armed);
    const ruleset6 = this.guard(render.ruleset6, FAMILIES[6], known, armed);
    const summary = summarizeRuleset(ruleset, ruleset6, render.model);
    return { ...render, ruleset, ruleset6, summary, awaiting, armed };
  }

  /** One family's ruleset with the guard: its sets added, the jump and the guard chain. */
  private guard(base: Ruleset, family: FamilyGuard, known: readonly string[], armed: Armed): Ruleset {
    const part = renderFamilyGuard(family, this.podCidrs, known, armed);
    const armedKey = `${armed.ingress}/${armed.egress}`;
    const last = this.last.get(family.family);
    let chains: ChainSpec[];
    if (last && last.base === base.chains && last.armedKey === armedKey) {
      chains = last.chains;
    } else {
      chains = withGuardChain(base.chains, part.chain);
      this.last.set(family.family, { base: base.chains, armedKey, chains });
    }
    return { ...base, ipsets: sortedByName(base.ipsets, part.ipsets), chains };
  }
}

/** STN-FORWARD with the jump to the guard appended, and the guard chain last. */
function withGuardChain(chains: readonly ChainSpec[], guard: ChainSpec): ChainSpec[] {
  const out = chains.map((c) =>
    c.name === TOP_CHAIN ? { name: TOP_CHAIN, rules: [...c.rules, `-j ${NEW_POD_CHAIN}`] } : c,
  );
  out.push(guard);
  return out;
}
