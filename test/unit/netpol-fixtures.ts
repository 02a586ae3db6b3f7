// Small builders for Namespaces, Pods and NetworkPolicies in unit tests, so that each test shows
// only what matters to the case it states.
import type {
  ContainerPort,
  Namespace,
  NetworkPolicy,
  NetworkPolicySpec,
  Pod,
  Protocol,
} from '../../operator/api/networkpolicy.js';
import { ModelEvaluator, type Connection } from '../../operator/netpol/evaluate.js';
import { buildNodeModel } from '../../operator/netpol/model.js';
import type { NodeModel } from '../../operator/netpol/types.js';
import { NetworkPolicyOracle } from '../support/netpol-oracle.js';

export const NODE = 'node-a';

export function ns(name: string, labels: Record<string, string> = {}): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export interface PodOptions {
  ip?: string;
  /** A second address (dual-stack): status.podIPs lists ip, then ip2. */
  ip2?: string;
  node?: string;
  labels?: Record<string, string>;
  ports?: ContainerPort[];
  phase?: string;
  hostNetwork?: boolean;
}

export function pod(namespace: string, name: string, o: PodOptions = {}): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: o.labels ?? {} },
    spec: { nodeName: o.node ?? NODE, containers: [{ name: 'c', ...(o.ports ? { ports: o.ports } : {}) }] },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip ? { podIP: o.ip } : {}),
      ...(o.ip && o.ip2 ? { podIPs: [{ ip: o.ip }, { ip: o.ip2 }] } : {}),
    },
  };
  if (o.hostNetwork) p.spec.hostNetwork = true;
  return p;
}

export function policy(namespace: string, name: string, spec: Partial<NetworkPolicySpec>): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, generation: 1 },
    spec: { podSelector: {}, ...spec },
  };
}

export interface Cluster {
  namespaces?: Namespace[];
  pods?: Pod[];
  policies?: NetworkPolicy[];
  node?: string;
}

export function model(c: Cluster): NodeModel {
  return buildNodeModel({
    node: c.node ?? NODE,
    namespaces: c.namespaces ?? [],
    pods: c.pods ?? [],
    policies: c.policies ?? [],
  });
}

/**
 * A predicate over connections for one cluster: allowed('1.1.1.1', '2.2.2.2', 'TCP', 80). The
 * verdict is the independent oracle's (test/support/netpol-oracle.ts); the model, read through
 * the evaluator the conntrack judge uses, must give the same one, or the call throws.
 */
export function allowedIn(
  c: Cluster,
): (src: string, dst: string, protocol?: Protocol, port?: number) => boolean {
  const node = c.node ?? NODE;
  const ev = new ModelEvaluator(model(c));
  const oracle = new NetworkPolicyOracle(
    { namespaces: c.namespaces ?? [], pods: c.pods ?? [], policies: c.policies ?? [] },
    node,
  );
  return (src, dst, protocol = 'TCP', port = 80) => {
    const conn: Connection = { src, dst, protocol, port };
    const want = oracle.allows(conn);
    const got = ev.allows(conn);
    if (got !== want)
      throw new Error(
        `${src} -> ${dst} ${protocol}/${port}: the oracle ${want ? 'allows' : 'denies'}, the model ${got ? 'allows' : 'denies'}`,
      );
    return want;
  };
}
