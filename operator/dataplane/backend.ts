// Which iptables the node uses: legacy (x_tables) or nft (nf_tables). Writing to the other one
// would split the node's rules across two kernels paths that both run, so the agent looks at
// what is already there — the way kube-proxy's iptables wrapper decides — and then only ever
// calls that backend's own -save and -restore binaries. IPv4 (iptables) and IPv6 (ip6tables)
// are separate tables with separate tools, and are detected separately: a node may hold kube-
// proxy's IPv4 rules in one backend and, say, nothing at all for IPv6.
import type { Family } from '../net/address.js';
import type { Runner } from './runner.js';

export type IptablesBackend = 'nft' | 'legacy';

export interface BackendTools {
  backend: IptablesBackend;
  family: Family;
  save: string;
  restore: string;
}

/** iptables-nft-save / ip6tables-legacy-restore, and so on. */
export function toolsFor(backend: IptablesBackend, family: Family = 4): BackendTools {
  const cmd = family === 4 ? 'iptables' : 'ip6tables';
  return { backend, family, save: `${cmd}-${backend}-save`, restore: `${cmd}-${backend}-restore` };
}

export interface BackendChoice {
  backend: IptablesBackend;
  /** Why, for the log line and the node report. */
  reason: string;
}

export interface SaveSummary {
  rules: number;
  agentChains: boolean;
  kubeletHint: boolean;
}

/** What one backend's iptables-save output shows: rule count, our chains, kubelet's markers. */
export function summarizeSave(text: string): SaveSummary {
  let rules = 0;
  let agentChains = false;
  let kubeletHint = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('-A ')) rules++;
    if (line.startsWith(':STN-')) agentChains = true;
    // kubelet creates these in the backend it uses (kube-proxy's wrapper looks for them too).
    if (line.startsWith(':KUBE-IPTABLES-HINT') || line.startsWith(':KUBE-KUBELET-CANARY')) kubeletHint = true;
  }
  return { rules, agentChains, kubeletHint };
}

/** Pure decision from the two save outputs (undefined: that binary is missing). */
export function chooseBackend(
  legacy: SaveSummary | undefined,
  nft: SaveSummary | undefined,
  family: Family = 4,
): BackendChoice {
  const cmd = family === 4 ? 'iptables' : 'ip6tables';
  if (!nft && !legacy) throw new Error(`neither ${cmd}-nft-save nor ${cmd}-legacy-save can run`);
  if (!nft) return { backend: 'legacy', reason: `only ${cmd}-legacy is installed` };
  if (!legacy) return { backend: 'nft', reason: `only ${cmd}-nft is installed` };
  // Our own earlier state wins: moving would leave the old rules enforcing in the other backend.
  if (nft.agentChains !== legacy.agentChains) {
    return nft.agentChains
      ? { backend: 'nft', reason: 'agent chains already in nft' }
      : { backend: 'legacy', reason: 'agent chains already in legacy' };
  }
  if (nft.kubeletHint !== legacy.kubeletHint) {
    return nft.kubeletHint
      ? { backend: 'nft', reason: 'kubelet markers in nft' }
      : { backend: 'legacy', reason: 'kubelet markers in legacy' };
  }
  if (legacy.rules > nft.rules)
    return { backend: 'legacy', reason: `legacy has more rules (${legacy.rules} > ${nft.rules})` };
  if (nft.rules > 0)
    return { backend: 'nft', reason: `nft has at least as many rules (${nft.rules} >= ${legacy.rules})` };
  return { backend: 'nft', reason: 'no rules in either backend; nft is the default' };
}

async function trySave(
  runner: Runner,
  backend: IptablesBackend,
  family: Family,
): Promise<SaveSummary | undefined> {
  try {
    const r = await runner.run([toolsFor(backend, family).save]);
    return r.code === 0 ? summarizeSave(r.stdout) : undefined;
  } catch {
    return undefined; // binary missing
  }
}

export function parseBackend(value: string): IptablesBackend {
  if (value === 'nft' || value === 'legacy') return value;
  throw new Error(`iptables backend must be "nft" or "legacy", not "${value}"`);
}

/**
 * Detects the backend the node (or netns) already uses for one family (default IPv4).
 * `override` (a flag or SOFTTENANT_IPTABLES_BACKEND) skips the detection, for both families.
 */
export async function detectBackend(
  runner: Runner,
  override?: string,
  family: Family = 4,
): Promise<BackendChoice> {
  const forced = override ?? process.env.SOFTTENANT_IPTABLES_BACKEND;
  if (forced) return { backend: parseBackend(forced), reason: 'set explicitly' };
  const [legacy, nft] = await Promise.all([
    trySave(runner, 'legacy', family),
    trySave(runner, 'nft', family),
  ]);
  return chooseBackend(legacy, nft, family);
}
