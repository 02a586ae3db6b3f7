import { expect } from 'chai';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import { EventRecorder } from '../../operator/controller/recorder.js';
import { tenantsToWake } from '../../operator/controller/wakeups.js';

const known = ['a', 'b'];

describe('watch events to tenant keys', () => {
  it('wakes the tenant and every known tenant for a SoftTenant event (conflicts depend on each other)', () => {
    expect(tenantsToWake('SoftTenant', { metadata: { name: 'c' } }, known)).to.deep.equal(['a', 'b', 'c']);
  });

  it('wakes every tenant and the one named by the label for a Namespace event', () => {
    expect(tenantsToWake('Namespace', { metadata: { name: 'ns', labels: {} } }, known)).to.deep.equal([
      'a',
      'b',
    ]);
    const labelled = { metadata: { name: 'ns', labels: { 'tenancy.softtenant.io/tenant': 'gone' } } };
    expect(tenantsToWake('Namespace', labelled, known)).to.deep.equal(['a', 'b', 'gone']);
  });

  it('wakes only the owning tenant for a generated policy and nobody for users\u2019 policies', () => {
    const generated = {
      metadata: {
        labels: { 'app.kubernetes.io/managed-by': 'softtenant', 'tenancy.softtenant.io/tenant': 'b' },
      },
    };
    expect(tenantsToWake('NetworkPolicy', generated, known)).to.deep.equal(['b']);
    const users = { metadata: { labels: { 'tenancy.softtenant.io/tenant': 'b' } } };
    expect(tenantsToWake('NetworkPolicy', users, known)).to.deep.equal([]);
    expect(tenantsToWake('NetworkPolicy', { metadata: {} }, known)).to.deep.equal([]);
  });
});

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

describe('watch events for enforcement', () => {
  it('wakes every known tenant for a node report', () => {
    expect(tenantsToWake('NodeEnforcement', { metadata: { name: 'node-a' } }, known)).to.deep.equal([
      'a',
      'b',
    ]);
  });

  it('wakes the tenant of the pod namespace, and nobody for a pod outside tenants', () => {
    const tenants = new Map([['ns-b', 'b']]);
    const inTenant = { metadata: { name: 'p', namespace: 'ns-b' } };
    const outside = { metadata: { name: 'p', namespace: 'kube-system' } };
    expect(tenantsToWake('Pod', inTenant, known, tenants)).to.deep.equal(['b']);
    expect(tenantsToWake('Pod', outside, known, tenants)).to.deep.equal([]);
  });
});
