// The `ports` of one rule, validated and normalised: numeric ports and ranges as they are,
// named ports kept by name (they resolve per destination pod, later), protocol defaulted to TCP.
import type { NetworkPolicyPort, Protocol } from '../api/networkpolicy.js';
import { portProtocol } from '../api/networkpolicy-defaults.js';
import type { PortRange } from './types.js';

const protocols: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
// IANA service name rules the API applies to named ports: 1-15 characters, lower-case letters,
// digits and '-', at least one letter, no leading/trailing or double '-'.
const portNamePattern = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;

export interface NamedPortRef {
  protocol: Protocol;
  name: string;
}

export interface RulePorts {
  /** No `ports` (or `ports: []`): every port of every protocol. */
  anyPort: boolean;
  ranges: PortRange[];
  named: NamedPortRef[];
  /** One message per entry that was left out because it is invalid. */
  errors: string[];
}

function isPortNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * Normalises a rule's ports. An invalid entry contributes nothing (and is reported), so a rule
 * whose every entry is invalid allows nothing rather than everything.
 */
export function normalizePorts(ports: readonly NetworkPolicyPort[] | undefined, where: string): RulePorts {
  const out: RulePorts = { anyPort: !ports || ports.length === 0, ranges: [], named: [], errors: [] };
  const seen = new Set<string>();
  (ports ?? []).forEach((p, i) => {
    const at = `${where}[${i}]`;
    if (typeof p !== 'object' || p === null) {
      out.errors.push(`${at}: not an object`);
      return;
    }
    const protocol = portProtocol(p);
    if (!protocols.includes(protocol)) {
      out.errors.push(`${at}: unsupported protocol "${String(protocol)}" (TCP, UDP or SCTP)`);
      return;
    }
    const { port, endPort } = p;
    if (typeof port === 'string') {
      if (!portNamePattern.test(port) || port.length > 15) {
        out.errors.push(`${at}: "${port}" is neither a port number nor a valid port name`);
        return;
      }
      if (endPort !== undefined) {
        out.errors.push(`${at}: endPort needs a numeric port, not the name "${port}"`);
        return;
      }
      const key = `${protocol}/${port}`;
      if (!seen.has(key)) out.named.push({ protocol, name: port });
      seen.add(key);
      return;
    }
    if (port !== undefined && !isPortNumber(port)) {
      out.errors.push(`${at}: port ${String(port)} is out of range 1-65535`);
      return;
    }
    if (endPort !== undefined) {
      if (port === undefined) {
        out.errors.push(`${at}: endPort without port`);
        return;
      }
      if (!isPortNumber(endPort) || endPort < port) {
        out.errors.push(`${at}: endPort ${String(endPort)} must be between port ${port} and 65535`);
        return;
      }
    }
    const range: PortRange = { protocol };
    if (port !== undefined) range.port = port;
    if (endPort !== undefined && endPort !== port) range.endPort = endPort;
    const key = `${protocol}/${range.port ?? ''}/${range.endPort ?? ''}`;
    if (!seen.has(key)) out.ranges.push(range);
    seen.add(key);
  });
  return out;
}

/** Does a protocol/port fall inside a range? */
export function portInRange(range: PortRange, protocol: Protocol, port: number): boolean {
  if (range.protocol !== protocol) return false;
  if (range.port === undefined) return true;
  return port >= range.port && port <= (range.endPort ?? range.port);
}
