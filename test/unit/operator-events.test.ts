import { expect } from 'chai';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import { EventRecorder } from '../../operator/controller/recorder.js';

describe('event recorder', () => {
  it('sends a repeated Warning once per window but every Normal event', async () => {
    const sent: string[] = [];
    let now = 0;
    const recorder = new EventRecorder(
      { createEvent: (e) => Promise.resolve(void sent.push(`${e.type}/${e.reason}`)) },
      () => now,
      1000,
    );
    const tenant: SoftTenant = {
      apiVersion: 'tenancy.softtenant.io/v1alpha1',
      kind: 'SoftTenant',
      metadata: { name: 't', uid: 'u' },
      spec: {},
    };
    const warning = {
      tenant,
      type: 'Warning' as const,
      reason: 'ApplyFailed',
      action: 'Reconcile',
      note: 'x failed',
    };
    const normal = {
      tenant,
      type: 'Normal' as const,
      reason: 'PolicyCreated',
      action: 'Apply',
      note: 'created a/p',
    };
    recorder.record(warning);
    recorder.record(warning);
    recorder.record(normal);
    recorder.record(normal);
    now = 1500;
    recorder.record(warning);
    await recorder.idle();
    expect(sent).to.deep.equal([
      'Warning/ApplyFailed',
      'Normal/PolicyCreated',
      'Normal/PolicyCreated',
      'Warning/ApplyFailed',
    ]);
  });

  it('never fails the caller when the API refuses the Event', async () => {
    const recorder = new EventRecorder({ createEvent: () => Promise.reject(new Error('forbidden')) });
    const tenant: SoftTenant = {
      apiVersion: 'tenancy.softtenant.io/v1alpha1',
      kind: 'SoftTenant',
      metadata: { name: 't', uid: 'u' },
      spec: {},
    };
    recorder.record({ tenant, type: 'Normal', reason: 'R', action: 'A', note: 'n' });
    await recorder.idle();
  });
});

describe('event recorder: sending in the background', () => {
  const tenant: SoftTenant = {
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'SoftTenant',
    metadata: { name: 't', uid: 'u' },
    spec: {},
  };

  it('returns before the Event is sent, sends at most `senders` at once, and drops past the backlog', async () => {
    const open: (() => void)[] = [];
    const sent: string[] = [];
    const recorder = new EventRecorder(
      {
        createEvent: (e) =>
          new Promise<void>((resolve) => {
            open.push(() => {
              sent.push(e.note);
              resolve();
            });
          }),
      },
      () => 0,
      1000,
      { senders: 2, maxBacklog: 3 },
    );
    for (const note of ['1', '2', '3', '4', '5', '6', '7']) {
      recorder.record({ tenant, type: 'Normal', reason: 'R', action: 'A', note });
    }
    // Two in flight, three waiting, two dropped.
    expect(open.length).to.equal(2);
    let idle = false;
    void recorder.idle().then(() => (idle = true));
    while (open.length > 0) {
      for (const finish of open.splice(0)) finish();
      await new Promise<void>((r) => setImmediate(r));
    }
    await recorder.idle();
    expect(idle).to.equal(true);
    expect(sent).to.deep.equal(['1', '2', '3', '4', '5']);
  });
});
