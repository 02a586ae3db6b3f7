// Wraps the reconciler so every reconcile is counted and timed: the controller hands its numbers
// to the metrics module (which knows nothing of the controller), and the reconciler itself knows
// nothing of metrics.
import type { TenantReconciler } from './controller.js';
import { ReconcileError, StaleReadError } from './errors.js';
import type { ReconcileResult } from './reconciler.js';
import type { OperatorMetrics, ReconcileErrorReason } from '../metrics/operator-metrics.js';

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
