// ClusterNetworkPolicies in the operator: the watch cache of all of them (the status loop keeps
// every one's Programmed condition, controller/cnp-status-loop.ts), the generated ones (managed-
// by=softtenant) indexed by tenant label for strict tenants, and the writes (server-side apply
// with the operator's field manager, delete with a UID precondition), behind the controller's
// ClusterNetworkPolicyPort. Each write's response goes into the cache at once, as
// for NetworkPolicies (tenant-client.ts), so the next reconcile neither repeats nor undoes it.
import type { KubeAccess } from './config.js';
import {
  CNP_GROUP,
  CNP_KIND,
  CNP_PLURAL,
  CNP_VERSION,
  type ClusterNetworkPolicy,
} from '../api/clusternetworkpolicy.js';
import type { Condition } from '../api/conditions.js';
import { FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL } from '../api/softtenant.js';
import type { ClusterNetworkPolicyPort } from '../controller/cnp-port.js';
import type { WatchEventType } from '../controller/wakeups.js';
import { isNotFound, KubeApiError, kubeCall } from './errors.js';
import type { Informer } from './informer.js';
import { requestJson } from './raw-request.js';
import { conflictAware } from './tenant-client.js';
import type { WriteMeter } from './write-meter.js';

/** The collection the operator watches and writes (v1beta1, the CRD's storage version). */
export const CNP_COLLECTION = `/apis/${CNP_GROUP}/${CNP_VERSION}/${CNP_PLURAL}`;
function path(name: string): string {
  return `${CNP_COLLECTION}/${encodeURIComponent(name)}`;
}

/** The apply configuration: only the fields the operator owns. */
function applyConfiguration(policy: ClusterNetworkPolicy): ClusterNetworkPolicy {
  const { name, labels, annotations, ownerReferences } = policy.metadata;
  return {
    apiVersion: `${CNP_GROUP}/${CNP_VERSION}`,
    kind: CNP_KIND,
    metadata: { name, labels, annotations, ownerReferences },
    spec: policy.spec,
  };
}

/** Server-side apply with force: a hand edit of an owned field is taken back. Returns the stored object. */
export async function applyClusterNetworkPolicy(
  kc: KubeAccess,
  policy: ClusterNetworkPolicy,
): Promise<ClusterNetworkPolicy> {
  const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true' });
  return kubeCall(`applying ClusterNetworkPolicy ${policy.metadata.name}`, () =>
    requestJson<ClusterNetworkPolicy>(
      kc,
      'PATCH',
      `${path(policy.metadata.name)}?${query.toString()}`,
      applyConfiguration(policy),
      'application/apply-patch+yaml',
    ),
  );
}

/**
 * Server-side apply to the status subresource, the operator's conditions only (the list is a map
 * keyed by type, so conditions another controller set are kept). Returns the stored object.
 */
export async function applyClusterNetworkPolicyStatus(
  kc: KubeAccess,
  policy: ClusterNetworkPolicy,
  conditions: Condition[],
): Promise<ClusterNetworkPolicy> {
  const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true' });
  return kubeCall(`writing the status of ClusterNetworkPolicy ${policy.metadata.name}`, () =>
    requestJson<ClusterNetworkPolicy>(
      kc,
      'PATCH',
      `${path(policy.metadata.name)}/status?${query.toString()}`,
      {
        apiVersion: `${CNP_GROUP}/${CNP_VERSION}`,
        kind: CNP_KIND,
        metadata: { name: policy.metadata.name },
        status: { conditions },
      },
      'application/apply-patch+yaml',
    ),
  );
}

/** Deletes the object that was read (UID precondition); gone already counts as done. */
export async function deleteClusterNetworkPolicy(
  kc: KubeAccess,
  policy: ClusterNetworkPolicy,
): Promise<void> {
  try {
    await requestJson(kc, 'DELETE', path(policy.metadata.name), {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid: policy.metadata.uid },
    });
  } catch (err) {
    if (isNotFound(err)) return;
    throw new KubeApiError(`deleting ClusterNetworkPolicy ${policy.metadata.name}`, err);
  }
}

function isGenerated(policy: ClusterNetworkPolicy): boolean {
  return policy.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

/**
 * The informer of every ClusterNetworkPolicy; the generated ones indexed by the tenant their
 * label names. The strict tenants' reads (get, labelled) see only generated ones: a platform
 * policy is never theirs to update or prune.
 */
export class ClusterNetworkPolicyCache {
  private readonly byTenant = new Map<string, Set<string>>();
  private readonly tenantOf = new Map<string, string>();

  constructor(readonly informer: Informer<ClusterNetworkPolicy>) {
    informer.onEvent((type, policy) => this.index(type, policy));
  }

  get(name: string): ClusterNetworkPolicy | undefined {
    const policy = this.informer.get(name);
    return policy && isGenerated(policy) ? policy : undefined;
  }

  /** Any ClusterNetworkPolicy by name, the platform team's included. */
  any(name: string): ClusterNetworkPolicy | undefined {
    return this.informer.get(name);
  }

  all(): ClusterNetworkPolicy[] {
    return this.informer.list();
  }

  labelled(tenant: string): ClusterNetworkPolicy[] {
    const out: ClusterNetworkPolicy[] = [];
    for (const name of this.byTenant.get(tenant) ?? []) {
      const policy = this.informer.get(name);
      if (policy && isGenerated(policy) && policy.metadata.labels?.[TENANT_LABEL] === tenant)
        out.push(policy);
    }
    return out;
  }

  private index(type: WatchEventType, policy: ClusterNetworkPolicy): void {
    const name = policy.metadata.name;
    const before = this.tenantOf.get(name);
    if (before !== undefined) {
      const names = this.byTenant.get(before);
      if (names?.delete(name) && names.size === 0) this.byTenant.delete(before);
      this.tenantOf.delete(name);
    }
    const tenant = policy.metadata.labels?.[TENANT_LABEL];
    if (type === 'DELETED' || !tenant || !isGenerated(policy)) return;
    this.tenantOf.set(name, tenant);
    const names = this.byTenant.get(tenant) ?? new Set<string>();
    names.add(name);
    this.byTenant.set(tenant, names);
  }
}

/**
 * The controller's port on the cache and the raw request path; writes are counted by `writes`.
 * The cache is there once the CRD is served (at start-up or later, OperatorCaches).
 */
export class KubeClusterNetworkPolicies implements ClusterNetworkPolicyPort {
  constructor(
    private readonly kubeConfig: KubeAccess,
    private readonly cacheOf: () => ClusterNetworkPolicyCache | undefined,
    private readonly writes: WriteMeter,
  ) {}

  served(): boolean {
    return this.cacheOf() !== undefined;
  }

  labelled(tenant: string): ClusterNetworkPolicy[] {
    return this.cacheOf()?.labelled(tenant) ?? [];
  }

  get(name: string): ClusterNetworkPolicy | undefined {
    return this.cacheOf()?.get(name);
  }

  async apply(policy: ClusterNetworkPolicy): Promise<void> {
    const stored = await this.writes.record(
      { verb: 'apply', kind: CNP_KIND, name: policy.metadata.name },
      () => conflictAware(() => applyClusterNetworkPolicy(this.kubeConfig, policy)),
    );
    this.cacheOf()?.informer.noteWritten(stored);
  }

  async applyStatus(policy: ClusterNetworkPolicy, conditions: Condition[]): Promise<void> {
    const stored = await this.writes.record(
      { verb: 'apply', kind: `${CNP_KIND}/status`, name: policy.metadata.name },
      () => conflictAware(() => applyClusterNetworkPolicyStatus(this.kubeConfig, policy, conditions)),
    );
    this.cacheOf()?.informer.noteWritten(stored);
  }

  async delete(policy: ClusterNetworkPolicy): Promise<void> {
    await this.writes.record({ verb: 'delete', kind: CNP_KIND, name: policy.metadata.name }, () =>
      conflictAware(() => deleteClusterNetworkPolicy(this.kubeConfig, policy)),
    );
    this.cacheOf()?.informer.noteDeleted(policy);
  }
}
