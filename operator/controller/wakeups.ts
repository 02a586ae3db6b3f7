// Every watch the operator runs, which tenants each event wakes, and which events are filtered
// out, in one table (WATCHES). Events carry no work: they update the indexes below and name the
// tenants whose state is recomputed, and only those. The informers that deliver the events are
// built from the same table (operator/kube/operator-caches.ts).
import {
  CNP_GROUP,
  CNP_PLURAL,
  CNP_VERSION,
  type ClusterNetworkPolicy,
} from '../api/clusternetworkpolicy.js';
import type { NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { NODE_ENFORCEMENT_PLURAL, type NodeEnforcement } from '../api/nodeenforcement.js';
import {
  GROUP,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  PLURAL,
  TENANT_LABEL,
  VERSION,
  type SoftTenant,
} from '../api/softtenant.js';
import type { Namespace } from '../api/networkpolicy.js';
import type { OwnershipIndex } from './ownership-index.js';
import type { ReportEventFilter } from './report-event-filter.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Watched {
  SoftTenant: SoftTenant;
  Namespace: Namespace;
  NetworkPolicy: NetworkPolicy;
  Pod: Pod;
  NodeEnforcement: NodeEnforcement;
  ClusterNetworkPolicy: ClusterNetworkPolicy;
}
export type WatchedKind = keyof Watched;

/** Which namespaces have pods on which node (for report events). */
export class NodePods {
  private readonly byPod = new Map<string, { node: string; namespace: string }>();
  private readonly byNode = new Map<string, Map<string, number>>();

  set(pod: Pod): void {
    this.remove(pod);
    const node = pod.spec?.nodeName;
    const namespace = pod.metadata.namespace ?? '';
    if (!node) return;
    this.byPod.set(`${namespace}/${pod.metadata.name}`, { node, namespace });
    const counts = this.byNode.get(node) ?? new Map<string, number>();
    counts.set(namespace, (counts.get(namespace) ?? 0) + 1);
    this.byNode.set(node, counts);
  }

  remove(pod: Pod): void {
    const key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
    const was = this.byPod.get(key);
    if (!was) return;
    this.byPod.delete(key);
    const counts = this.byNode.get(was.node);
    const left = (counts?.get(was.namespace) ?? 1) - 1;
    if (left > 0) counts?.set(was.namespace, left);
    else counts?.delete(was.namespace);
    if (counts?.size === 0) this.byNode.delete(was.node);
  }

  namespacesOn(node: string): string[] {
    return [...(this.byNode.get(node)?.keys() ?? [])].sort();
  }
}

/** What the wake-ups read and keep up to date. */
export interface WakeIndexes {
  ownership: OwnershipIndex;
  nodePods: NodePods;
  reports: ReportEventFilter;
}

export interface WatchRow<T> {
  /** The collection watched, and the label selector the API server filters it with. */
  watch: { path: string; labelSelector?: string };
  /** Watched only when the resource is served (an optional CRD). */
  optional?: boolean;
  /** Wake-ups wait this long, merging the events that follow (floods that change little). */
  delayMs?: number;
  /** Updates the indexes with the event and returns the tenants to reconcile, sorted. */
  wake(type: WatchEventType, object: T, indexes: WakeIndexes): string[];
}

function tenantsOfNamespaces(namespaces: readonly string[], ownership: OwnershipIndex): string[] {
  const out = new Set<string>();
  for (const ns of namespaces) {
    const tenant = ownership.labelOf(ns);
    if (tenant) out.add(tenant);
  }
  return [...out].sort();
}

export const WATCHES: { readonly [K in WatchedKind]: WatchRow<Watched[K]> } = {
  // A tenant's own change, and the tenants competing for the namespaces it claimed before or
  // claims now (a claim decides their holdings and conflicts).
  SoftTenant: {
    watch: { path: `/apis/${GROUP}/${VERSION}/${PLURAL}` },
    wake: (type, tenant, { ownership }) =>
      type === 'DELETED' ? ownership.removeTenant(tenant.metadata.name) : ownership.setTenant(tenant),
  },
  // Its holder, every tenant claiming it before or after (names or selector), the tenant its
  // label names before or after (a label naming a gone tenant is cleaned up under that name),
  // and tenants whose rules name it.
  Namespace: {
    watch: { path: '/api/v1/namespaces' },
    wake: (type, namespace, { ownership }) =>
      type === 'DELETED'
        ? ownership.removeNamespace(namespace.metadata.name)
        : ownership.setNamespace(namespace),
  },
  // Every policy is watched, so that a reconcile can tell, from the cache, that a name it would
  // create is taken by a user's policy (no GET before a create). A generated policy wakes the
  // tenant it names; a user's policy wakes the tenant holding its namespace (its name may be
  // one that tenant generates: a collision appears or clears).
  NetworkPolicy: {
    watch: { path: '/apis/networking.k8s.io/v1/networkpolicies' },
    wake: (_type, policy, { ownership }) => {
      const labels = policy.metadata.labels ?? {};
      if (labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) {
        const tenant = labels[TENANT_LABEL];
        return tenant ? [tenant] : [];
      }
      return tenantsOfNamespaces([policy.metadata.namespace ?? ''], ownership);
    },
  },
  // A pod landing on or leaving a node changes which nodes must enforce the tenant holding its
  // namespace. Rollouts come in floods: merged over two seconds.
  Pod: {
    watch: { path: '/api/v1/pods' },
    delayMs: 2_000,
    wake: (type, pod, { ownership, nodePods }) => {
      if (type === 'DELETED') nodePods.remove(pod);
      else nodePods.set(pod);
      return tenantsOfNamespaces([pod.metadata.namespace ?? ''], ownership);
    },
  },
  // A node's report concerns only the tenants with pods on that node, and only when it changes
  // what their status reads (not its heartbeat: see report-event-filter.ts).
  NodeEnforcement: {
    watch: { path: `/apis/${GROUP}/${VERSION}/${NODE_ENFORCEMENT_PLURAL}` },
    optional: true,
    wake: (type, report, { ownership, nodePods, reports }) => {
      if (!reports.changesEnforcement(report, type)) return [];
      return tenantsOfNamespaces(nodePods.namespacesOn(report.metadata.name), ownership);
    },
  },
  // Every ClusterNetworkPolicy (their status loop, cnp-status-loop.ts, keeps each one's
  // Programmed condition, the platform team's too). A generated one's edit or deletion wakes the
  // tenant its label names, which puts it back; the others concern no tenant. Watched when the
  // CRD is served.
  ClusterNetworkPolicy: {
    watch: { path: `/apis/${CNP_GROUP}/${CNP_VERSION}/${CNP_PLURAL}` },
    optional: true,
    wake: (_type, policy) => {
      const labels = policy.metadata.labels ?? {};
      const tenant = labels[MANAGED_BY_LABEL] === MANAGED_BY_VALUE ? labels[TENANT_LABEL] : undefined;
      return tenant ? [tenant] : [];
    },
  },
};
