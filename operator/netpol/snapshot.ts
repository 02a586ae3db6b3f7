// Turns parsed Kubernetes objects (a `kubectl get ns,pods,netpol -A -o yaml` dump, or
// hand-written YAML) into the typed inputs of the model, checking the structure the model relies
// on. Errors name the object and the field. Semantic checks (selectors, CIDRs, ports) are the
// model's, which reports them as problems of the policy.
import {
  CNP_GROUP,
  CNP_KIND,
  CNP_VERSION,
  CNP_VERSION_ALPHA,
  type ClusterNetworkPolicy,
} from '../api/clusternetworkpolicy.js';
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { describeObject, type KubeObject } from '../util/manifests.js';
import type { ClusterObjects } from './types.js';

export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** The cluster objects of a snapshot (fresh arrays, the caller's to keep), and what was left out. */
export interface SnapshotObjects extends ClusterObjects {
  namespaces: Namespace[];
  pods: Pod[];
  policies: NetworkPolicy[];
  /** Cluster-scoped: `kubectl get clusternetworkpolicies -o yaml` adds them to a snapshot. */
  clusterNetworkPolicies: ClusterNetworkPolicy[];
  /** "Kind ns/name" of objects of other kinds, which the render does not need. */
  ignored: string[];
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkStringMap(v: unknown, what: string, field: string): void {
  if (v === undefined) return;
  if (!isMap(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new SnapshotError(`${what}: ${field} must be a map of strings`);
  }
}

function checkList(v: unknown, what: string, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SnapshotError(`${what}: ${field} must be a list`);
  return v;
}

function checkMeta(o: KubeObject, what: string, namespaced: boolean): void {
  const meta = o.metadata;
  if (!isMap(meta) || typeof meta.name !== 'string' || meta.name === '')
    throw new SnapshotError(`${what}: metadata.name is missing`);
  if (namespaced && meta.namespace !== undefined && typeof meta.namespace !== 'string') {
    throw new SnapshotError(`${what}: metadata.namespace must be a string`);
  }
  checkStringMap(meta.labels, what, 'metadata.labels');
}

function checkPod(o: KubeObject, what: string): Pod {
  checkMeta(o, what, true);
  const spec = o.spec;
  if (!isMap(spec)) throw new SnapshotError(`${what}: spec is missing`);
  for (const field of ['containers', 'initContainers'] as const) {
    checkList(spec[field], what, `spec.${field}`).forEach((c, i) => {
      if (!isMap(c)) throw new SnapshotError(`${what}: spec.${field}[${i}] must be an object`);
      checkList(c.ports, what, `spec.${field}[${i}].ports`).forEach((p, j) => {
        if (!isMap(p) || typeof p.containerPort !== 'number') {
          throw new SnapshotError(`${what}: spec.${field}[${i}].ports[${j}] needs a numeric containerPort`);
        }
      });
    });
  }
  if (o.status !== undefined && !isMap(o.status))
    throw new SnapshotError(`${what}: status must be an object`);
  const status = o.status;
  if (status?.podIP !== undefined && typeof status.podIP !== 'string')
    throw new SnapshotError(`${what}: status.podIP must be a string`);
  checkList(status?.podIPs, what, 'status.podIPs').forEach((p, i) => {
    if (!isMap(p) || typeof p.ip !== 'string')
      throw new SnapshotError(`${what}: status.podIPs[${i}].ip must be a string`);
  });
  return o as unknown as Pod;
}

function checkPolicy(o: KubeObject, what: string): NetworkPolicy {
  checkMeta(o, what, true);
  const spec = o.spec;
  if (!isMap(spec)) throw new SnapshotError(`${what}: spec is missing`);
  if (!isMap(spec.podSelector))
    throw new SnapshotError(`${what}: spec.podSelector is missing (use {} to select every pod)`);
  checkList(spec.policyTypes, what, 'spec.policyTypes');
  for (const [field, peers] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    checkList(spec[field], what, `spec.${field}`).forEach((rule, i) => {
      if (!isMap(rule)) throw new SnapshotError(`${what}: spec.${field}[${i}] must be an object`);
      checkList(rule[peers], what, `spec.${field}[${i}].${peers}`);
      checkList(rule.ports, what, `spec.${field}[${i}].ports`);
    });
  }
  return o as unknown as NetworkPolicy;
}

/** The structure the ClusterNetworkPolicy model relies on; its semantics are the model's to judge. */
function checkClusterPolicy(o: KubeObject, what: string, seen: Set<string>): ClusterNetworkPolicy {
  const versions = [`${CNP_GROUP}/${CNP_VERSION}`, `${CNP_GROUP}/${CNP_VERSION_ALPHA}`];
  if (!versions.includes(String(o.apiVersion))) {
    throw new SnapshotError(
      `${what}: apiVersion ${String(o.apiVersion)} is not one of ${versions.join(', ')}`,
    );
  }
  checkMeta(o, what, false);
  const id = `${CNP_KIND} ${String(o.metadata?.name)}`;
  if (seen.has(id)) throw new SnapshotError(`${what}: appears twice in the snapshot`);
  seen.add(id);
  const spec = o.spec;
  if (!isMap(spec)) throw new SnapshotError(`${what}: spec is missing`);
  if (!isMap(spec.subject)) throw new SnapshotError(`${what}: spec.subject is missing`);
  checkList(spec.ingress, what, 'spec.ingress');
  checkList(spec.egress, what, 'spec.egress');
  return o as unknown as ClusterNetworkPolicy;
}

/**
 * Sorts objects into Namespaces, Pods and NetworkPolicies. Pods and NetworkPolicies without a
 * namespace count as "default" (as `kubectl apply` would place them; the model does the same).
 * Duplicates are an error. The objects are returned as given, not copied.
 */
export function snapshotFromObjects(objects: readonly KubeObject[]): SnapshotObjects {
  const out = {
    namespaces: [] as Namespace[],
    pods: [] as Pod[],
    policies: [] as NetworkPolicy[],
    clusterNetworkPolicies: [] as ClusterNetworkPolicy[],
    ignored: [] as string[],
  };
  const seen = new Set<string>();
  for (const o of objects) {
    const what = describeObject(o);
    const kind = o.kind;
    if (kind === CNP_KIND) {
      out.clusterNetworkPolicies.push(checkClusterPolicy(o, what, seen));
      continue;
    }
    if (kind !== 'Namespace' && kind !== 'Pod' && kind !== 'NetworkPolicy') {
      out.ignored.push(what);
      continue;
    }
    const namespace = kind === 'Namespace' ? '' : String(o.metadata?.namespace ?? 'default');
    const id = `${kind} ${namespace}/${String(o.metadata?.name ?? '')}`;
    if (seen.has(id)) throw new SnapshotError(`${describeObject(o)}: appears twice in the snapshot`);
    seen.add(id);
    if (kind === 'Namespace') {
      checkMeta(o, what, false);
      out.namespaces.push(o as unknown as Namespace);
    } else if (kind === 'Pod') {
      out.pods.push(checkPod(o, what));
    } else {
      if (o.apiVersion !== undefined && o.apiVersion !== 'networking.k8s.io/v1') {
        throw new SnapshotError(`${what}: apiVersion ${String(o.apiVersion)} is not networking.k8s.io/v1`);
      }
      out.policies.push(checkPolicy(o, what));
    }
  }
  return out;
}
