// `softtenant render`: what the agent would program on a node, from a snapshot file, as three
// restore files (ipsets of both families, IPv4 rules, IPv6 rules). Same code path as the agent (renderNode), so what you read is what runs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderNode } from '../dataplane/render-node.js';
import { renderIpsetRestore, renderIptablesRestore } from '../dataplane/render-text.js';
import { snapshotFromObjects, SnapshotError } from '../netpol/snapshot.js';
import { ManifestError, parseManifests } from '../util/manifests.js';
import { parseCommandLine, UsageError } from './args.js';

const usage = `usage: softtenant render --snapshot FILE --node NAME --out DIR

Reads Namespaces, Pods, NetworkPolicies and ClusterNetworkPolicies from FILE (multi-document
YAML or a kind: List, as 'kubectl get ns,pods,netpol,clusternetworkpolicies -A -o yaml' prints;
'-' reads stdin) and writes what the node agent would program on node NAME:

  DIR/ipset.restore     input for 'ipset restore' (the sets of both families, each
                        created with 'family inet' or 'family inet6')
  DIR/iptables.restore  input for 'iptables-restore --noflush' (IPv4 filter table)
  DIR/ip6tables.restore input for 'ip6tables-restore --noflush' (IPv6 filter table)

Applied in that order to a fresh node network namespace (sets first), they enforce every
NetworkPolicy that selects a pod of that node, over IPv4 and IPv6. Output is deterministic.

flags:
  --snapshot, -f FILE   cluster objects to read
  --node, -n NAME       node whose pods are enforced (spec.nodeName)
  --out, -o DIR         directory to write (created if missing)
  --help, -h            this text
`;

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function single(flags: Map<string, string[]>, name: string): string | undefined {
  const values = flags.get(name);
  if (values && values.length > 1) throw new UsageError(`--${name} given more than once`);
  return values?.[0];
}

export async function run(args: string[]): Promise<number> {
  let snapshotFile: string | undefined;
  let node: string | undefined;
  let outDir: string | undefined;
  try {
    const parsed = parseCommandLine(args, {
      values: ['snapshot', 'node', 'out'],
      bools: ['help'],
      aliases: { f: 'snapshot', n: 'node', o: 'out', h: 'help' },
    });
    if (parsed.bools.has('help')) {
      process.stdout.write(usage);
      return 0;
    }
    if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0]}`);
    snapshotFile = single(parsed.flags, 'snapshot');
    node = single(parsed.flags, 'node');
    outDir = single(parsed.flags, 'out');
    const missing = [!snapshotFile && '--snapshot', !node && '--node', !outDir && '--out'].filter(Boolean);
    if (missing.length > 0) throw new UsageError(`missing ${missing.join(', ')}`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`softtenant render: ${err.message}\n\n${usage}`);
    return 2;
  }
  if (!snapshotFile || !node || !outDir) return 2;

  let text: string;
  try {
    text = await readInput(snapshotFile);
  } catch (err) {
    process.stderr.write(
      `softtenant render: cannot read snapshot ${snapshotFile}: ${(err as Error).message}\n`,
    );
    return 1;
  }
  let objects;
  try {
    objects = snapshotFromObjects(parseManifests(text, snapshotFile));
  } catch (err) {
    if (!(err instanceof ManifestError || err instanceof SnapshotError)) throw err;
    process.stderr.write(`softtenant render: ${err.message}\n`);
    return 1;
  }

  const result = renderNode(objects, node);
  if (result.problems.length > 0) {
    for (const p of result.problems)
      process.stderr.write(`softtenant render: NetworkPolicy ${p.namespace}/${p.name}: ${p.message}\n`);
    process.stderr.write(
      `softtenant render: ${result.problems.length} policies cannot be programmed as written; nothing written\n`,
    );
    return 1;
  }
  if (result.model.pods.length === 0) {
    process.stderr.write(
      `softtenant render: note: node ${node} has no enforceable pods in the snapshot (is the node name right?)\n`,
    );
  }

  await mkdir(outDir, { recursive: true });
  const ipsetFile = path.join(outDir, 'ipset.restore');
  const iptablesFile = path.join(outDir, 'iptables.restore');
  const ip6tablesFile = path.join(outDir, 'ip6tables.restore');
  await writeFile(ipsetFile, renderIpsetRestore(result.ruleset, result.ruleset6));
  await writeFile(iptablesFile, renderIptablesRestore(result.ruleset));
  await writeFile(ip6tablesFile, renderIptablesRestore(result.ruleset6));
  const s = result.summary;
  const { ipv4, ipv6 } = s.families;
  const sets = result.ruleset.ipsets.length + result.ruleset6.ipsets.length;
  process.stdout.write(
    `node ${node}: ${result.model.pods.length} local pods, ${s.policies.length} policies selecting them\n` +
      `wrote ${ipsetFile} (${sets} sets, ${ipv4.ipsetEntries} IPv4 and ${ipv6.ipsetEntries} IPv6 entries)\n` +
      `wrote ${iptablesFile} (${ipv4.chains} chains, ${ipv4.rules} rules)\n` +
      `wrote ${ip6tablesFile} (${ipv6.chains} chains, ${ipv6.rules} rules)\n`,
  );
  return 0;
}
