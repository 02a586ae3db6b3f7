// What a lab is made of: the pods of a snapshot (each on its node, with its IP and ports) and
// extra non-pod hosts with an address, for ipBlock cases. The lab plan is derived from this.
import type { LabProtocol } from './protocol.js';

export interface LabPort {
  port: number;
  protocol: LabProtocol;
}

export interface LabPodSpec {
  namespace: string;
  name: string;
  node: string;
  /** Its IPv4 address; absent for an IPv6-only pod (which has ip6). */
  ip?: string;
  /** Its IPv6 address, for a dual-stack or IPv6-only pod (status.podIPs holds both, or it alone). */
  ip6?: string;
  /** The pod's containerPorts; every host also serves LabSpec.servePorts. */
  ports: LabPort[];
}

export interface LabExternalSpec {
  /** Shown as "ext/<name>" in matrices. */
  name: string;
  ip: string;
  /** Its IPv6 address, in a dual-stack lab. */
  ip6?: string;
  /** The node network namespace the host hangs off (routed, like a host beside the node). */
  node: string;
}

export interface LabSpec {
  /** Nodes to build even without pods; nodes of pods and externals are added. */
  nodes?: string[];
  pods: LabPodSpec[];
  externals?: LabExternalSpec[];
  /** Ports every host (pods, externals, nodes) serves, so a probe tells a firewall verdict from a closed port. */
  servePorts?: LabPort[];
  /** Prefix length of a node's pod subnet, derived from its pods' IPs; default 24. */
  podPrefixLength?: number;
}

/** Host names as they appear in probes and matrices. */
export function podHostName(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
export function externalHostName(name: string): string {
  return `ext/${name}`;
}
export function nodeHostName(name: string): string {
  return `node/${name}`;
}
