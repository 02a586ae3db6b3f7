// Wraps the reconciler so every reconcile is counted and timed, without the controller knowing
// about metrics.
import type { TenantReconciler } from '../controller/controller.js';
import { ReconcileError, StaleReadError } from '../controller/errors.js';
import type { ReconcileResult } from '../controller/reconciler.js';
import type { OperatorMetrics, ReconcileErrorReason } from './operator-metrics.js';

export function reconcileErrorReason(err: unknown): ReconcileErrorReason {
  if (err instanceof StaleReadError) return 'stale_read';
  if (err instanceof ReconcileError) return 'apply_failed';
  return 'unexpected';
}

export class MeteredReconciler implements TenantReconciler {
  constructor(
    private readonly inner: TenantReconciler,
    private readonly metrics: OperatorMetrics,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const stopTimer = this.metrics.reconcileDuration.startTimer();
    try {
      const result = await this.inner.reconcile(name);
      this.metrics.reconciles.inc({ result: 'success' });
      return result;
    } catch (err) {
      this.metrics.reconciles.inc({ result: 'error' });
      this.metrics.reconcileErrors.inc({ reason: reconcileErrorReason(err) });
      throw err;
    } finally {
      stopTimer();
    }
  }
}
