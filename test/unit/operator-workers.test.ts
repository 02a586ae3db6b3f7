// The controller with several workers: reconciles of different tenants overlap, two of one
// tenant never do, and a wake-up that arrives while a tenant is being reconciled runs it once
// more afterwards (nothing is lost, nothing doubles).
import { expect } from 'chai';
import { TenantController } from '../../operator/controller/controller.js';
import type { ReconcileResult } from '../../operator/controller/reconciler.js';
import { ManualClock, settle } from '../support/manual-clock.js';

/** A reconciler whose calls stay open until the test ends them. */
class HeldReconciler {
  readonly started: string[] = [];
  readonly inFlight = new Map<string, number>();
  maxInFlight = 0;
  maxSameTenant = 0;
  private readonly open: { name: string; finish: () => void }[] = [];

  reconcile(name: string): Promise<ReconcileResult> {
    this.started.push(name);
    const same = (this.inFlight.get(name) ?? 0) + 1;
    this.inFlight.set(name, same);
    this.maxSameTenant = Math.max(this.maxSameTenant, same);
    this.maxInFlight = Math.max(this.maxInFlight, this.running);
    return new Promise((resolve) => {
      this.open.push({
        name,
        finish: () => {
          this.inFlight.set(name, (this.inFlight.get(name) ?? 1) - 1);
          resolve({});
        },
      });
    });
  }

  get running(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }

  /** Ends every reconcile open now. */
  finishAll(): void {
    for (const call of this.open.splice(0)) call.finish();
  }
}

describe('operator: concurrent workers', function () {
  it('reconcile different tenants at once, one tenant never twice at once, and lose no wake-up', async function () {
    const clock = new ManualClock();
    const reconciler = new HeldReconciler();
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const controller = new TenantController(
      reconciler,
      { tenantNames: () => names },
      {
        resyncPeriodMs: 600_000,
        workers: 4,
        clock,
      },
    );
    controller.start();
    await settle();
    expect(reconciler.started, 'four workers take four tenants').to.deep.equal(['a', 'b', 'c', 'd']);

    // Wake-ups for every tenant, three times, while four of them are being reconciled: those
    // four must wait for their running reconcile.
    for (let i = 0; i < 3; i++) controller.resync();
    await settle();
    expect(reconciler.maxSameTenant).to.equal(1);
    expect(controller.queueStats()).to.deep.equal({ waiting: 2, inFlight: 4 });

    for (let round = 0; round < 4 && reconciler.running > 0; round++) {
      reconciler.finishAll();
      await settle();
      expect(reconciler.maxSameTenant, 'never two reconciles of one tenant').to.equal(1);
    }
    reconciler.finishAll();
    await settle();
    expect(reconciler.maxInFlight).to.equal(4);
    // Every tenant ran, and those woken while running ran once more, not once per wake-up.
    const runs = new Map<string, number>();
    for (const n of reconciler.started) runs.set(n, (runs.get(n) ?? 0) + 1);
    expect(Object.fromEntries(runs)).to.deep.equal({ a: 2, b: 2, c: 2, d: 2, e: 1, f: 1 });
    await controller.stop();
  });
});
