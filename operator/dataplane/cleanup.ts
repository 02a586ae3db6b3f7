// `softtenant agent --cleanup`: removes everything the agent ever installed, in both iptables
// backends (an agent may have run with the other one before) and both families (iptables and
// ip6tables): its hook rules in the built-in chains, its STN- chains, then its stn- ipsets of
// both families. Foreign rules are never named.
import type { ObservedTable } from './apply-observe.js';
import { observeSets, observeTable } from './apply-observe.js';
import { builtinChains, isAgentHookRule } from './apply-ownership.js';
import type { BackendTools, IptablesBackend } from './backend.js';
import { toolsFor } from './backend.js';
import type { Runner } from './runner.js';
import { runChecked } from './runner.js';

export interface CleanupResult {
  hooksRemoved: number;
  chainsRemoved: number;
  setsRemoved: number;
  /** Where agent rules were found and removed: "nft", "legacy" (IPv4), "ip6 nft", "ip6 legacy". */
  backends: string[];
}

/** The restore lines that remove the agent's hooks and chains from one filter table (pure). */
export function cleanupScript(table: ObservedTable): string[] {
  const lines: string[] = [];
  for (const b of builtinChains)
    for (const r of table.builtins.get(b) ?? []) if (isAgentHookRule(r)) lines.push(`-D ${b} ${r}`);
  const chains = [...table.chains.keys()].sort();
  if (lines.length === 0 && chains.length === 0) return [];
  return [
    '*filter',
    ...chains.map((c) => `:${c} - [0:0]`),
    ...lines,
    ...chains.map((c) => `-X ${c}`),
    'COMMIT',
  ];
}

async function backendAvailable(runner: Runner, tools: BackendTools): Promise<boolean> {
  try {
    return (await runner.run([tools.save, '--version'])).code === 0;
  } catch {
    return false;
  }
}

export async function cleanupAgentState(runner: Runner): Promise<CleanupResult> {
  const result: CleanupResult = { hooksRemoved: 0, chainsRemoved: 0, setsRemoved: 0, backends: [] };
  const all: BackendTools[] = (['nft', 'legacy'] as const).flatMap((b: IptablesBackend) => [
    toolsFor(b, 4),
    toolsFor(b, 6),
  ]);
  for (const tools of all) {
    if (!(await backendAvailable(runner, tools))) continue;
    const table = await observeTable(runner, tools);
    const script = cleanupScript(table);
    if (script.length === 0) continue;
    const label = tools.family === 4 ? tools.backend : `ip6 ${tools.backend}`;
    await runChecked(runner, [tools.restore, '--noflush', '-w', '5'], `removing agent rules (${label})`, {
      input: `${script.join('\n')}\n`,
    });
    result.backends.push(label);
    result.chainsRemoved += table.chains.size;
    result.hooksRemoved += script.filter((l) => l.startsWith('-D ')).length;
  }
  // Sets last: the rules that referred to them are gone now.
  const sets = [...(await observeSets(runner)).keys()].sort();
  if (sets.length > 0) {
    await runChecked(runner, ['ipset', 'restore'], 'destroying agent ipsets', {
      input: `${sets.map((s) => `destroy ${s}`).join('\n')}\n`,
    });
    result.setsRemoved = sets.length;
  }
  return result;
}
