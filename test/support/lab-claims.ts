// Claims of the lab's ClusterNetworkPolicy tests: a row [from, to, 'tcp/80', family, ...expected]
// becomes a probe cell, and a cell the connection the oracle judges.
import type { Lab, ProbeCell } from './lab.js';

export type ClaimHead = readonly [string, string, string, 4 | 6, ...unknown[]];

export function claimCell([from, to, pp, family]: ClaimHead): ProbeCell {
  const [proto, port] = pp.split('/');
  return {
    from,
    to,
    port: Number(port),
    protocol: proto === 'udp' ? 'UDP' : 'TCP',
    ...(family === 6 ? { family } : {}),
  };
}

export function connOf(
  lab: Lab,
  c: ProbeCell,
): { src: string; dst: string; protocol: 'TCP' | 'UDP' | 'SCTP'; port: number } {
  return {
    src: lab.ipOf(c.from, c.family ?? 4),
    dst: lab.ipOf(c.to, c.family ?? 4),
    protocol: c.protocol,
    port: c.port,
  };
}
