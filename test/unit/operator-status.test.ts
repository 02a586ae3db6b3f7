import { expect } from 'chai';
import type { SoftTenantStatus } from '../../operator/api/softtenant.js';
import { droppedFields, finalStatus, ownedStatusEqual } from '../../operator/controller/status.js';
import type { TenantExpansion } from '../../operator/tenant/types.js';

const T0 = '2030-01-01T00:00:00Z';
const T1 = '2030-01-01T00:05:00Z';

function expansion(over: Partial<TenantExpansion> = {}): TenantExpansion {
  return {
    tenant: 't',
    namespaces: ['b', 'a'],
    policies: [],
    clusterNetworkPolicies: [],
    conflicts: [],
    problems: [],
    ...over,
  };
}

const types = (s: { conditions?: { type: string }[] }): string[] => (s.conditions ?? []).map((c) => c.type);

describe('SoftTenant status', () => {
  it('is Ready/Applied with sorted namespaces and counts when everything is applied', () => {
    const s = finalStatus(
      undefined,
      { generation: 3, expansion: expansion(), policiesInPlace: 4, failures: [] },
      T0,
    );
    expect(s).to.deep.include({
      observedGeneration: 3,
      namespaces: ['a', 'b'],
      namespaceCount: 2,
      policies: 4,
    });
    expect(s.conditions).to.deep.equal([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Applied',
        message: '4 NetworkPolicies applied in 2 namespaces',
        observedGeneration: 3,
        lastTransitionTime: T0,
      },
    ]);
  });

  it('reports a namespace conflict as Stalled naming the namespace and the other tenant', () => {
    const s = finalStatus(
      undefined,
      {
        generation: 1,
        expansion: expansion({ conflicts: [{ namespace: 'shared', owner: 'first' }] }),
        policiesInPlace: 1,
        failures: [],
      },
      T0,
    );
    const stalled = s.conditions?.find((c) => c.type === 'Stalled');
    expect(stalled).to.include({ status: 'True', reason: 'NamespaceConflict' });
    expect(stalled?.message).to.include('"shared"').and.include('"first"').and.include('spec.namespaces');
    expect(s.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'NamespaceConflict',
    });
  });

  it('reports spec problems as Stalled InvalidSpec with the field', () => {
    const s = finalStatus(
      undefined,
      {
        generation: 1,
        expansion: expansion({
          problems: [{ field: 'spec.allowFrom[0].tenants[0]', message: 'no such tenant' }],
        }),
        policiesInPlace: 0,
        failures: [],
      },
      T0,
    );
    expect(s.conditions?.find((c) => c.type === 'Stalled')).to.include({ reason: 'InvalidSpec' });
    expect(s.conditions?.find((c) => c.type === 'Ready')?.message).to.include(
      'spec.allowFrom[0].tenants[0]: no such tenant',
    );
  });

  it('never says Ready when a write failed', () => {
    const s = finalStatus(
      undefined,
      {
        generation: 1,
        expansion: expansion(),
        policiesInPlace: 0,
        failures: ['applying NetworkPolicy a/p: forbidden'],
      },
      T0,
    );
    expect(s.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'ApplyFailed',
    });
    expect(s.conditions?.find((c) => c.type === 'Ready')?.message).to.include(
      'applying NetworkPolicy a/p: forbidden',
    );
    expect(s.conditions?.find((c) => c.type === 'Reconciling')).to.include({
      status: 'True',
      reason: 'ApplyFailed',
    });
  });

  it('keeps lastTransitionTime and compares equal when nothing changed, so no write follows', () => {
    const input = { generation: 1, expansion: expansion(), policiesInPlace: 2, failures: [] };
    const first = finalStatus(undefined, input, T0);
    const again = finalStatus(first, input, T1);
    expect(again.conditions?.[0]?.lastTransitionTime).to.equal(T0);
    expect(ownedStatusEqual(first, again)).to.equal(true);
    expect(ownedStatusEqual(first, finalStatus(first, { ...input, policiesInPlace: 3 }, T1))).to.equal(false);
  });

  it('carries over the Enforced condition and the last enforcement measurement', () => {
    const prev: SoftTenantStatus = {
      enforcement: { nodes: 2, enforced: 2 },
      conditions: [
        { type: 'Enforced', status: 'True', reason: 'Enforced', message: 'ok', lastTransitionTime: T0 },
      ],
    };
    const next = finalStatus(
      prev,
      { generation: 1, expansion: expansion(), policiesInPlace: 0, failures: [] },
      T1,
    );
    expect(types(next)).to.deep.equal(['Enforced', 'Ready']);
    expect(next.enforcement).to.deep.equal({ nodes: 2, enforced: 2 });
    expect(ownedStatusEqual({ ...next, enforcement: { nodes: 3, enforced: 1 } }, next)).to.equal(false);
  });

  it('notices fields the CRD schema dropped and can leave them out of the comparison', () => {
    const next = finalStatus(
      undefined,
      { generation: 1, expansion: expansion(), policiesInPlace: 0, failures: [] },
      T0,
    );
    const stored: SoftTenantStatus = { ...next, namespaceCount: undefined };
    expect(droppedFields(next, stored)).to.deep.equal(['namespaceCount']);
    expect(ownedStatusEqual(stored, next)).to.equal(false);
    expect(ownedStatusEqual(stored, next, new Set(['namespaceCount']))).to.equal(true);
  });
});
