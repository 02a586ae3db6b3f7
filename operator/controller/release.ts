// Letting go: a SoftTenant being deleted loses its generated policies and its namespace labels,
// then the finalizer; a tenant name that no longer exists loses the labels still naming it.
// Namespaces themselves are never deleted.
import type { Namespace, NetworkPolicy } from '../api/networkpolicy.js';
import { FINALIZER, TENANT_LABEL, type SoftTenant } from '../api/softtenant.js';
import type { NamespaceLabelChange } from '../tenant/types.js';
import type { Logger } from '../util/logger.js';
import type { TenantClient } from './client.js';
import { ReconcileError, StaleReadError, staleReadAware } from './errors.js';
import { isGeneratedFor, policyKey } from './ownership.js';
import { tenantLabel } from './plan.js';
import { clauseList, noteList, type EventRecorder } from './recorder.js';
import { errorMessage } from '../util/errors.js';

export class TenantRelease {
  constructor(
    private readonly client: TenantClient,
    private readonly recorder: EventRecorder,
  ) {}

  /** SoftTenant being deleted: delete its policies, release its namespaces, drop the finalizer. */
  async finalize(
    tenant: SoftTenant,
    changes: readonly NamespaceLabelChange[],
    namespaces: readonly Namespace[],
    managed: readonly NetworkPolicy[],
    log: Logger,
  ): Promise<void> {
    if (!(tenant.metadata.finalizers ?? []).includes(FINALIZER)) return;
    const name = tenant.metadata.name;
    const failures: string[] = [];
    const deleted: string[] = [];
    for (const policy of managed.filter((p) => isGeneratedFor(p, name, tenant.metadata.uid))) {
      try {
        await this.client.deletePolicy(policy);
        log.info('policy deleted', { policy: policyKey(policy), why: 'tenant deleted' });
        deleted.push(policyKey(policy));
      } catch (err) {
        failures.push(errorMessage(err));
      }
    }
    if (deleted.length > 0) {
      this.recorder.record({
        tenant,
        type: 'Normal',
        reason: 'PolicyDeleted',
        action: 'Delete',
        note: `deleted NetworkPolicy ${noteList(deleted)} (the tenant is being deleted)`,
      });
    }
    try {
      await this.releaseNamespaces(name, changes, namespaces, tenant, log);
    } catch (err) {
      if (err instanceof StaleReadError) throw err;
      failures.push(...(err instanceof ReconcileError ? err.failures : [errorMessage(err)]));
    }
    if (failures.length > 0) {
      for (const note of failures) {
        this.recorder.record({
          tenant,
          type: 'Warning',
          reason: 'CleanupFailed',
          action: 'Delete',
          note,
        });
      }
      throw new ReconcileError(name, failures);
    }
    await staleReadAware(name, 'the SoftTenant', () => this.client.removeFinalizer(tenant));
    log.info('released the tenant and removed the finalizer', { policiesDeleted: deleted.length });
  }

  /**
   * Namespaces still labelled for `name` (a tenant being deleted, or one that no longer exists)
   * go to the tenant the expansion gives them to, else lose the label.
   */
  async releaseNamespaces(
    name: string,
    changes: readonly NamespaceLabelChange[],
    namespaces: readonly Namespace[],
    tenant: SoftTenant | undefined,
    log: Logger,
  ): Promise<void> {
    const failures: string[] = [];
    const released: string[] = [];
    for (const namespace of namespaces) {
      if (tenantLabel(namespace) !== name || namespace.metadata.deletionTimestamp) continue;
      const ns = namespace.metadata.name;
      const next = changes.find((c) => c.namespace === ns)?.tenant ?? null;
      if (next === name) continue;
      try {
        await staleReadAware(name, `namespace ${ns}`, () =>
          this.client.setNamespaceTenantLabel(namespace, next),
        );
      } catch (err) {
        if (err instanceof StaleReadError) throw err;
        failures.push(errorMessage(err));
        continue;
      }
      log.info('namespace released', { namespace: ns, to: next });
      released.push(
        next === null
          ? `namespace ${ns} released (label ${TENANT_LABEL} removed)`
          : `namespace ${ns} handed to tenant ${next}`,
      );
    }
    // One Event for all the namespaces this pass released.
    if (tenant && released.length > 0) {
      this.recorder.record({
        tenant,
        type: 'Normal',
        reason: 'NamespaceLeft',
        action: 'Label',
        note: clauseList(released),
      });
    }
    if (failures.length > 0) throw new ReconcileError(name, failures);
  }
}
