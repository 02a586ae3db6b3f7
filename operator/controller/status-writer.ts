// Writes SoftTenant status only when an owned field would change, and turns status changes
// that people should hear about (a new Stalled reason, a failure) into Warning Events.
import { ConditionType, findCondition, type Condition } from '../api/conditions.js';
import type { SoftTenant } from '../api/softtenant.js';
import type { TenantExpansion } from '../tenant/types.js';
import type { Logger } from '../util/logger.js';
import type { TenantClient } from './client.js';
import { staleReadAware } from './errors.js';
import type { EventRecorder } from './recorder.js';
import { droppedFields, finalStatus, ownedStatusEqual, type OwnedStatus } from './status.js';
import { errorMessage } from '../util/errors.js';
import { rfc3339 } from '../util/time.js';

export class StatusWriter {
  /** Status fields the CRD schema turned out to drop; comparing them would mean a write forever. */
  private readonly dropped = new Set<string>();

  constructor(
    private readonly client: Pick<TenantClient, 'patchStatus'>,
    private readonly recorder: EventRecorder,
    private readonly now: () => Date,
  ) {}

  /** Now, as condition and status times are written (RFC 3339, seconds). */
  nowRfc3339(): string {
    return rfc3339(this.now());
  }

  /** Writes `next` when it differs from what is stored; returns the tenant as it is afterwards. */
  async write(tenant: SoftTenant, next: OwnedStatus, log: Logger): Promise<SoftTenant> {
    if (ownedStatusEqual(tenant.status, next, this.dropped)) return tenant;
    const updated = await staleReadAware(tenant.metadata.name, 'the SoftTenant status', () =>
      this.client.patchStatus(tenant, next),
    );
    for (const field of droppedFields(next, updated.status)) {
      if (this.dropped.has(field)) continue;
      this.dropped.add(field);
      log.warn('the SoftTenant CRD drops a status field the operator writes; ignoring it from now on', {
        field: `status.${field}`,
      });
    }
    const ready = findCondition(next.conditions, ConditionType.Ready);
    log.info('status updated', { ready: ready?.status, reason: ready?.reason });
    return updated;
  }

  /**
   * A failure before any plan could be made (the expansion itself failed): Ready=False with the
   * reason, what was known before kept. Best effort: the error goes back to the queue anyway.
   */
  async reportFailure(tenant: SoftTenant, failures: string[], log: Logger): Promise<void> {
    const expansion: TenantExpansion = {
      tenant: tenant.metadata.name,
      namespaces: tenant.status?.namespaces ?? [],
      policies: [],
      clusterNetworkPolicies: [],
      conflicts: [],
      problems: [],
    };
    const outcome = {
      generation: tenant.metadata.generation,
      expansion,
      policiesInPlace: tenant.status?.policies ?? 0,
      failures,
    };
    try {
      await this.write(tenant, finalStatus(tenant.status, outcome, this.nowRfc3339()), log);
    } catch (err) {
      log.warn('could not write the failure into the status', { error: errorMessage(err) });
    }
    this.reportFailures(tenant, failures);
  }

  reportFailures(tenant: SoftTenant, failures: readonly string[]): void {
    for (const note of failures) {
      this.recorder.record({
        tenant,
        type: 'Warning',
        reason: 'ApplyFailed',
        action: 'Reconcile',
        note,
      });
    }
  }

  /** A Warning Event when the tenant becomes Stalled, or stays Stalled for another reason. */
  reportStalled(tenant: SoftTenant, before: readonly Condition[] | undefined, next: OwnedStatus): void {
    const was = findCondition(before, ConditionType.Stalled);
    const now = findCondition(next.conditions, ConditionType.Stalled);
    if (!now || now.status !== 'True') return;
    if (was?.status === 'True' && was.reason === now.reason && was.message === now.message) return;
    this.recorder.record({
      tenant,
      type: 'Warning',
      reason: now.reason,
      action: 'Reconcile',
      note: now.message,
    });
  }
}
