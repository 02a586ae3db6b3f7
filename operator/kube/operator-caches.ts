// The operator's read path: one informer per row of the wake table (controller/wakeups.ts),
// each trimmed to what reconciliation reads, behind the controller's TenantReads port. Objects
// lose their managedFields and the client-side last-applied annotation (slim.ts); pods keep what
// enforcement status reads, as the agent trims them.
import type { KubeAccess } from './config.js';
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import type { NodeEnforcement } from '../api/nodeenforcement.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL, type SoftTenant } from '../api/softtenant.js';
import { POD_LIST_PAGE_SIZE, trimPod } from '../agent/pod-trim.js';
import type { TenantReads } from '../controller/client.js';
import type { ClusterPolicyStatusReads } from '../controller/cnp-status-loop.js';
import { WATCHES, type Watched, type WatchedKind, type WatchEventType } from '../controller/wakeups.js';
import { logger } from '../util/logger.js';
import { ClusterNetworkPolicyCache } from './clusternetworkpolicies.js';
import { cacheKey, Informer, type Cached } from './informer.js';
import { slim } from './slim.js';

function slimNamespace(ns: Namespace): Namespace {
  slim(ns);
  const holder = ns as Namespace & { spec?: unknown };
  // spec.finalizers is all a Namespace's spec holds; nothing here reads it.
  if (holder.spec !== undefined) delete holder.spec;
  return ns;
}

const TRIMS: { readonly [K in WatchedKind]: (obj: Watched[K]) => Watched[K] } = {
  SoftTenant: slim,
  Namespace: slimNamespace,
  NetworkPolicy: slim,
  Pod: trimPod,
  NodeEnforcement: slim,
  ClusterNetworkPolicy: slim,
};

function isGenerated(policy: NetworkPolicy): boolean {
  return policy.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

interface Informers {
  tenants: Informer<SoftTenant>;
  namespaces: Informer<Namespace>;
  policies: Informer<NetworkPolicy>;
  pods: Informer<Pod>;
  /** Absent when the NodeEnforcement CRD is not installed. */
  reports: Informer<NodeEnforcement> | undefined;
  /** Every ClusterNetworkPolicy; absent until their CRD is served (serveClusterNetworkPolicies). */
  clusterNetworkPolicies: Informer<ClusterNetworkPolicy> | undefined;
}

type CnpListener = (type: WatchEventType, obj: ClusterNetworkPolicy) => void;

export class OperatorCaches implements TenantReads {
  readonly informers: Informers;
  /** Generated (managed-by) policies by the tenant their label names, and the reverse. */
  private readonly byTenant = new Map<string, Set<string>>();
  private readonly tenantOfPolicy = new Map<string, string>();

  /** Every ClusterNetworkPolicy, the generated ones indexed by tenant (when the CRD is served). */
  clusterNetworkPolicies: ClusterNetworkPolicyCache | undefined;
  /** Listeners of ClusterNetworkPolicy events, kept for an informer started later. */
  private readonly cnpListeners: CnpListener[] = [];
  private readonly make: <K extends WatchedKind>(kind: K) => Informer<Watched[K] & Cached>;

  constructor(kc: KubeAccess, options: { reportsServed: boolean; clusterNetworkPoliciesServed?: boolean }) {
    const log = logger('watch');
    const make = <K extends WatchedKind>(kind: K): Informer<Watched[K] & Cached> =>
      new Informer<Watched[K] & Cached>(kc, {
        ...WATCHES[kind].watch,
        ...(kind === 'Pod' ? { pageSize: POD_LIST_PAGE_SIZE } : {}),
        trim: TRIMS[kind] as (obj: Watched[K] & Cached) => Watched[K] & Cached,
        log,
      });
    this.make = make;
    this.informers = {
      tenants: make('SoftTenant'),
      namespaces: make('Namespace'),
      policies: make('NetworkPolicy'),
      pods: make('Pod'),
      reports: options.reportsServed ? make('NodeEnforcement') : undefined,
      clusterNetworkPolicies: options.clusterNetworkPoliciesServed ? make('ClusterNetworkPolicy') : undefined,
    };
    const cnps = this.informers.clusterNetworkPolicies;
    this.clusterNetworkPolicies = cnps ? new ClusterNetworkPolicyCache(cnps) : undefined;
    this.informers.policies.onEvent((type, policy) => this.indexPolicy(type, policy));
  }

  /** Delivers every cache event, of every kind, to `listener`. */
  onEvent(listener: <K extends WatchedKind>(kind: K, type: WatchEventType, obj: Watched[K]) => void): void {
    const i = this.informers;
    i.tenants.onEvent((type, obj) => listener('SoftTenant', type, obj));
    i.namespaces.onEvent((type, obj) => listener('Namespace', type, obj));
    i.policies.onEvent((type, obj) => listener('NetworkPolicy', type, obj));
    i.pods.onEvent((type, obj) => listener('Pod', type, obj));
    i.reports?.onEvent((type, obj) => listener('NodeEnforcement', type, obj));
    const cnpListener: CnpListener = (type, obj) => listener('ClusterNetworkPolicy', type, obj);
    this.cnpListeners.push(cnpListener);
    i.clusterNetworkPolicies?.onEvent(cnpListener);
  }

  /**
   * Starts the ClusterNetworkPolicy informer once their CRD is served after start-up (no-op if
   * it runs): every listener given to onEvent hears its events. Resolves once it has listed.
   */
  async serveClusterNetworkPolicies(): Promise<ClusterNetworkPolicyCache> {
    const running = this.clusterNetworkPolicies;
    if (running) {
      await running.informer.synced;
      return running;
    }
    const informer = this.make('ClusterNetworkPolicy');
    const cache = new ClusterNetworkPolicyCache(informer);
    for (const listener of this.cnpListeners) informer.onEvent(listener);
    this.informers.clusterNetworkPolicies = informer;
    this.clusterNetworkPolicies = cache;
    informer.start();
    await informer.synced;
    return cache;
  }

  private all(): Pick<Informer<Cached>, 'start' | 'stop' | 'synced'>[] {
    const i = this.informers;
    const all = [i.tenants, i.namespaces, i.policies, i.pods, i.reports, i.clusterNetworkPolicies];
    return all.filter((x) => x !== undefined);
  }

  /** Starts every informer and resolves once each has listed. */
  async start(): Promise<void> {
    for (const informer of this.all()) informer.start();
    await Promise.all(this.all().map((i) => i.synced));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop()));
  }

  /** Objects held, by kind (for the metrics and the bench). */
  sizes(): Record<string, number> {
    const i = this.informers;
    return {
      softtenants: i.tenants.list().length,
      namespaces: i.namespaces.list().length,
      networkpolicies: i.policies.list().length,
      pods: i.pods.list().length,
      nodeenforcements: i.reports?.list().length ?? 0,
      clusternetworkpolicies: i.clusterNetworkPolicies?.list().length ?? 0,
    };
  }

  tenant(name: string): SoftTenant | undefined {
    return this.informers.tenants.get(name);
  }

  tenantNames(): string[] {
    return this.informers.tenants.list().map((t) => t.metadata.name);
  }

  namespace(name: string): Namespace | undefined {
    return this.informers.namespaces.get(name);
  }

  managedPolicy(namespace: string, name: string): NetworkPolicy | undefined {
    const policy = this.informers.policies.get(name, namespace);
    return policy && isGenerated(policy) ? policy : undefined;
  }

  policy(namespace: string, name: string): NetworkPolicy | undefined {
    return this.informers.policies.get(name, namespace);
  }

  policiesLabelled(tenant: string): NetworkPolicy[] {
    const out: NetworkPolicy[] = [];
    for (const key of this.byTenant.get(tenant) ?? []) {
      const slash = key.indexOf('/');
      const policy = this.informers.policies.get(key.slice(slash + 1), key.slice(0, slash));
      if (policy && isGenerated(policy) && policy.metadata.labels?.[TENANT_LABEL] === tenant)
        out.push(policy);
    }
    return out;
  }

  pods(namespace: string): Pod[] {
    return this.informers.pods.list(namespace);
  }

  reports(): NodeEnforcement[] {
    return this.informers.reports?.list() ?? [];
  }

  /** What the ClusterNetworkPolicies' status loop reads (none while their CRD is not served). */
  clusterPolicyStatusReads(): ClusterPolicyStatusReads {
    return {
      clusterNetworkPolicy: (name) => this.clusterNetworkPolicies?.any(name),
      clusterNetworkPolicies: () => this.clusterNetworkPolicies?.all() ?? [],
      namespaces: () => this.informers.namespaces.list(),
      pods: (namespace) => this.pods(namespace),
      reports: () => this.reports(),
    };
  }

  private indexPolicy(type: WatchEventType, policy: NetworkPolicy): void {
    const key = cacheKey(policy.metadata.namespace, policy.metadata.name);
    const before = this.tenantOfPolicy.get(key);
    if (before !== undefined) {
      const keys = this.byTenant.get(before);
      if (keys?.delete(key) && keys.size === 0) this.byTenant.delete(before);
      this.tenantOfPolicy.delete(key);
    }
    const tenant = policy.metadata.labels?.[TENANT_LABEL];
    if (type === 'DELETED' || !tenant || !isGenerated(policy)) return;
    this.tenantOfPolicy.set(key, tenant);
    const keys = this.byTenant.get(tenant) ?? new Set<string>();
    keys.add(key);
    this.byTenant.set(tenant, keys);
  }
}
