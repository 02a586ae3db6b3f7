// The node's own addresses (both families), which the conntrack cut must never judge
// (conntrack-judge.ts, concernsNode). The edge: the agent runs with the host's network, in an
// image without iproute2, so the addresses come from Node's os.networkInterfaces() (getifaddrs)
// in the network namespace the rules are programmed in: in-process when that is the agent's own,
// through the runner (a `node -e` of the same binary) when it programs another one (--netns, the
// lab). Read before every cut: the bridge's address appears with the node's first pod.
import { networkInterfaces } from 'node:os';
import { canonicalIP } from '../net/address.js';
import type { Runner } from './runner.js';
import { runChecked } from './runner.js';

/** The addresses of a networkInterfaces() result, canonical (RFC 5952 for IPv6, as conntrack prints). */
export function addressesOf(interfaces: NodeJS.Dict<{ address: string }[]>): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(interfaces)) {
    for (const { address } of list ?? []) {
      const ip = canonicalIP(address.split('%')[0] ?? address);
      if (ip !== undefined) out.add(ip);
    }
  }
  return out;
}

const script = "process.stdout.write(JSON.stringify(require('node:os').networkInterfaces()))";

/** The addresses of the network namespace `runner` runs in. */
export async function nodeAddresses(runner: Runner): Promise<Set<string>> {
  if (runner.where === 'host') return addressesOf(networkInterfaces());
  const out = await runChecked(
    runner,
    [process.execPath, '-e', script],
    'reading the node addresses of the network namespace',
  );
  return addressesOf(JSON.parse(out) as NodeJS.Dict<{ address: string }[]>);
}
