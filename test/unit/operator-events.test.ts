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
    await recorder.record(warning);
    await recorder.record(warning);
    await recorder.record(normal);
    await recorder.record(normal);
    now = 1500;
    await recorder.record(warning);
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
    await recorder.record({ tenant, type: 'Normal', reason: 'R', action: 'A', note: 'n' });
  });
});
