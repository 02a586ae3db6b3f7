// The controller's TenantClient on @kubernetes/client-node 1.x. Every write goes through the
// WriteMeter, so each one is logged with the object it touches and counted.
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import type { NodeEnforcement } from '../api/nodeenforcement.js';
import { listNodeEnforcements, listPodsIn } from './enforcement-reads.js';
import { KIND, type SoftTenant, type SoftTenantStatus } from '../api/softtenant.js';
import type { TenantClient, TenantEvent } from '../controller/client.js';
import { createEvent } from './events.js';
import { listNamespaces, setTenantLabel } from './namespaces.js';
import { applyPolicy, deletePolicy, getPolicy, listManagedPolicies } from './networkpolicies.js';
import { addFinalizer, listSoftTenants, patchStatus, removeFinalizer } from './softtenants.js';
import { WriteMeter } from './write-meter.js';

export class KubeTenantClient implements TenantClient {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly networking: NetworkingV1Api;
  readonly writes = new WriteMeter();

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.networking = kubeConfig.makeApiClient(NetworkingV1Api);
  }

  listSoftTenants(): Promise<SoftTenant[]> {
    return listSoftTenants(this.custom);
  }

  listNamespaces(): Promise<Namespace[]> {
    return listNamespaces(this.core);
  }

  listManagedPolicies(): Promise<NetworkPolicy[]> {
    return listManagedPolicies(this.custom);
  }

  listPods(namespaces: readonly string[]): Promise<Pod[]> {
    return listPodsIn(this.kubeConfig, namespaces);
  }

  listNodeEnforcements(): Promise<NodeEnforcement[]> {
    return listNodeEnforcements(this.custom);
  }

  getPolicy(namespace: string, name: string): Promise<NetworkPolicy | undefined> {
    return getPolicy(this.custom, namespace, name);
  }

  applyPolicy(policy: NetworkPolicy): Promise<void> {
    const { namespace, name } = policy.metadata;
    return this.writes.record({ verb: 'apply', kind: 'NetworkPolicy', namespace, name }, () =>
      applyPolicy(this.networking, policy),
    );
  }

  deletePolicy(policy: NetworkPolicy): Promise<void> {
    const { namespace, name } = policy.metadata;
    return this.writes.record({ verb: 'delete', kind: 'NetworkPolicy', namespace, name }, () =>
      deletePolicy(this.networking, policy),
    );
  }

  setNamespaceTenantLabel(namespace: Namespace, tenant: string | null): Promise<void> {
    return this.writes.record({ verb: 'patch', kind: 'Namespace', name: namespace.metadata.name }, () =>
      setTenantLabel(this.core, namespace, tenant),
    );
  }

  addFinalizer(tenant: SoftTenant): Promise<SoftTenant> {
    return this.writes.record({ verb: 'patch', kind: KIND, name: tenant.metadata.name }, () =>
      addFinalizer(this.custom, tenant),
    );
  }

  removeFinalizer(tenant: SoftTenant): Promise<void> {
    return this.writes.record({ verb: 'patch', kind: KIND, name: tenant.metadata.name }, () =>
      removeFinalizer(this.custom, tenant),
    );
  }

  patchStatus(tenant: SoftTenant, status: SoftTenantStatus): Promise<SoftTenant> {
    return this.writes.record({ verb: 'patch-status', kind: KIND, name: tenant.metadata.name }, () =>
      patchStatus(this.custom, tenant, status),
    );
  }

  createEvent(event: TenantEvent): Promise<void> {
    return this.writes.record({ verb: 'create', kind: 'Event', name: event.tenant.metadata.name }, () =>
      createEvent(this.custom, event, this.clock()),
    );
  }
}
