// Seeded random small clusters that exercise every feature the model handles (selectors of every
// kind, ipBlocks with excepts and /0, named ports that differ per pod, endPort, SCTP, pods that
// are not enforceable), for property tests that compare the render with the model.
import type {
  LabelSelector,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicySpec,
  Pod,
  PolicyType,
} from '../../operator/api/networkpolicy.js';
import { ns, pod, policy, type Cluster } from './netpol-fixtures.js';

export type Random = () => number;

/** mulberry32: a tiny deterministic PRNG, so a failing seed can be replayed. */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: Random, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

function labelsFrom(r: Random, vocab: Record<string, readonly string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, values] of Object.entries(vocab)) if (r() < 0.6) out[k] = pick(r, values);
  return out;
}

const podVocab = { app: ['web', 'db', 'api'], tier: ['fe', 'be'] } as const;
const nsVocab = { team: ['x', 'y'], env: ['prod', 'dev'] } as const;

function selector(r: Random, vocab: Record<string, readonly string[]>): LabelSelector {
  const k = pick(r, Object.keys(vocab));
  const values = vocab[k];
  switch (Math.floor(r() * 6)) {
    case 0:
      return {};
    case 1:
    case 2:
      return { matchLabels: { [k]: pick(r, values) } };
    case 3:
      return {
        matchExpressions: [
          { key: k, operator: pick(r, ['In', 'NotIn'] as const), values: [pick(r, values)] },
        ],
      };
    case 4:
      return { matchExpressions: [{ key: k, operator: pick(r, ['Exists', 'DoesNotExist'] as const) }] };
    default:
      return {
        matchLabels: { [k]: pick(r, values) },
        matchExpressions: [{ key: pick(r, Object.keys(vocab)), operator: 'Exists' }],
      };
  }
}

const blocks = [
  { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] },
  { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] },
  { cidr: '0.0.0.0/0' },
  { cidr: '192.0.2.0/24' },
  { cidr: '10.0.1.0/24' },
  { cidr: '10.0.2.0/25', except: ['10.0.2.0/28', '10.0.2.64/26'] },
  { cidr: '0.0.0.0/0', except: ['128.0.0.0/1', '10.0.2.0/24'] },
  { cidr: 'fd00::/16', except: ['fd00:0:1::/48'] },
  { cidr: '::/0', except: ['fd00::/16'] },
  { cidr: '::/0' },
  { cidr: 'fd00:0:2::/48' },
  { cidr: '2001:db8::7/128' },
] as const;

function blockPeer(r: Random): NetworkPolicyPeer {
  const b = pick(r, blocks);
  return { ipBlock: { cidr: b.cidr, ...('except' in b ? { except: [...b.except] } : {}) } };
}

function peer(r: Random): NetworkPolicyPeer {
  switch (Math.floor(r() * 5)) {
    case 0:
      return blockPeer(r);
    case 1:
      return { podSelector: selector(r, podVocab) };
    case 2:
      return { namespaceSelector: selector(r, nsVocab) };
    default:
      return { namespaceSelector: selector(r, nsVocab), podSelector: selector(r, podVocab) };
  }
}

const portChoices: readonly (NetworkPolicyPort[] | undefined)[] = [
  undefined,
  [],
  [{ port: 80 }],
  [{ protocol: 'UDP', port: 53 }],
  [{ port: 'http' }],
  [{ protocol: 'UDP', port: 'dns' }],
  [{ protocol: 'UDP' }],
  [{ protocol: 'TCP', port: 8000, endPort: 8100 }],
  [{ protocol: 'SCTP', port: 80 }],
  [{ port: 80 }, { port: 'http' }, { protocol: 'UDP', port: 53 }],
];

function rules(
  r: Random,
  dir: 'from' | 'to',
): { from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[] {
  const n = Math.floor(r() * 3);
  return Array.from({ length: n }, () => {
    const shape = r();
    // Some rules list only ipBlocks, several of them, so that blocks whose excepts overlap
    // each other meet in one rule.
    const peers =
      shape < 0.2
        ? undefined
        : shape < 0.4
          ? Array.from({ length: 2 + Math.floor(r() * 2) }, () => blockPeer(r))
          : Array.from({ length: 1 + Math.floor(r() * 2) }, () => peer(r));
    const ports = pick(r, portChoices);
    return { ...(peers ? { [dir]: peers } : {}), ...(ports ? { ports } : {}) };
  });
}

export interface RandomCluster extends Cluster {
  /** Every pod IP (enforceable or not) plus a few outside addresses, to probe with. */
  addresses: string[];
}

export function randomCluster(r: Random): RandomCluster {
  const namespaces = ['n1', 'n2', 'n3'].map((name) => ns(name, labelsFrom(r, nsVocab)));
  const pods: Pod[] = [];
  const podCount = 8 + Math.floor(r() * 10);
  for (let i = 0; i < podCount; i++) {
    const ports = [
      ...(r() < 0.6 ? [{ name: 'http', containerPort: pick(r, [80, 8080, 8050]) }] : []),
      ...(r() < 0.4 ? [{ name: 'dns', containerPort: 53, protocol: 'UDP' as const }] : []),
    ];
    const subnet = r() < 0.5 ? 1 : 2;
    // Dual-stack, IPv4-only and IPv6-only pods side by side (either family may come first).
    const v4 = `10.0.${subnet}.${10 + i}`;
    const v6 = `fd00:0:${subnet}::${(10 + i).toString(16)}`;
    const family = r();
    const p = pod(pick(r, ['n1', 'n2', 'n3']), `p${i}`, {
      ...(family < 0.45
        ? { ip: v4 }
        : family < 0.7
          ? { ip: v4, ip2: v6 }
          : family < 0.85
            ? { ip: v6, ip2: v4 }
            : { ip: v6 }),
      node: r() < 0.6 ? 'node-a' : 'node-b',
      labels: labelsFrom(r, podVocab),
      ports,
      ...(r() < 0.08 ? { phase: 'Succeeded' } : {}),
      ...(r() < 0.05 ? { hostNetwork: true } : {}),
    });
    pods.push(p);
  }
  const policies = Array.from({ length: 1 + Math.floor(r() * 5) }, (_, i) => {
    const types = pick(r, [undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']] as (
      | PolicyType[]
      | undefined
    )[]);
    const spec: Partial<NetworkPolicySpec> = { podSelector: selector(r, podVocab) };
    if (types) spec.policyTypes = types;
    if (r() < 0.8) spec.ingress = rules(r, 'from');
    if (r() < 0.7) spec.egress = rules(r, 'to');
    return policy(pick(r, ['n1', 'n2', 'n3']), `pol${i}`, spec);
  });
  const addresses = [
    ...pods.flatMap((p) => (p.status?.podIPs ?? [{ ip: p.status?.podIP as string }]).map((x) => x.ip)),
    '192.0.2.7',
    '10.0.1.77',
    '10.0.2.5',
    '10.0.2.70',
    '10.0.2.200',
    '10.0.3.1',
    '200.1.1.1',
    '8.8.8.8',
    'fd00:0:1::77',
    'fd00:0:2::5',
    'fd00:0:3::1',
    '2001:db8::7',
    '2001:db8::8',
  ];
  return { namespaces, pods, policies, addresses };
}
