import { expect } from 'chai';
import { findCondition, type Condition } from '../../operator/api/conditions.js';
import type { SoftTenantStatus } from '../../operator/api/softtenant.js';
import { withEnforcement } from '../../operator/controller/enforcement-status.js';
import { ownedStatusEqual, type OwnedStatus } from '../../operator/controller/status.js';
import type { EnforcementResult } from '../../operator/enforcement/aggregate.js';

const t0 = '2026-01-01T00:00:00Z';
const t1 = '2026-01-01T00:00:07Z';
const ctx = { generation: 3, now: t1, createdAt: '2025-12-31T23:59:00Z' };

function cond(type: string, status: Condition['status'], reason: string, at = t0): Condition {
  return {
    type,
    status,
    reason,
    message: `${type} ${reason}`,
    observedGeneration: 3,
    lastTransitionTime: at,
  };
}

function applied(extra: Condition[] = []): OwnedStatus {
  return {
    observedGeneration: 3,
    namespaces: ['a'],
    namespaceCount: 1,
    policies: 2,
    conditions: [cond('Ready', 'True', 'Applied'), ...extra],
  };
}

const enforced: EnforcementResult = {
  status: { nodes: 2, enforced: 2, summary: '2/2' },
  condition: { status: 'True', reason: 'Enforced', message: 'all policies enforced on 2/2 nodes' },
};
const pending: EnforcementResult = {
  status: {
    nodes: 2,
    enforced: 1,
    summary: '1/2',
    lagging: [{ node: 'b', reason: 'Pending', message: 'waiting' }],
  },
  condition: { status: 'False', reason: 'AwaitingEnforcement', message: 'enforced on 1/2 nodes; b: waiting' },
};
const broken: EnforcementResult = {
  status: {
    nodes: 2,
    enforced: 1,
    summary: '1/2',
    lagging: [{ node: 'b', reason: 'AgentStale', message: 'gone' }],
  },
  condition: { status: 'False', reason: 'NotEnforced', message: 'enforced on 1/2 nodes; b: gone' },
};

describe('tenant status with enforcement', () => {
  it('keeps Ready True when applied and enforced, and says where', () => {
    const next = withEnforcement(undefined, applied(), enforced, ctx);
    expect(findCondition(next.conditions, 'Ready')).to.include({ status: 'True', reason: 'Applied' });
    expect(findCondition(next.conditions, 'Ready')?.message).to.match(/enforced on 2\/2 nodes$/);
    expect(findCondition(next.conditions, 'Enforced')).to.include({ status: 'True', reason: 'Enforced' });
    expect(next.enforcement).to.include({ nodes: 2, enforced: 2, summary: '2/2' });
  });

  it('makes an applied tenant progress (Ready False, Reconciling True) while nodes catch up', () => {
    const next = withEnforcement(undefined, applied(), pending, ctx);
    expect(findCondition(next.conditions, 'Ready')).to.include({
      status: 'False',
      reason: 'AwaitingEnforcement',
    });
    expect(findCondition(next.conditions, 'Reconciling')).to.include({
      status: 'True',
      reason: 'AwaitingEnforcement',
    });
    expect(next.enforcement?.lagging).to.have.length(1);
  });

  it('makes a node that cannot enforce a fault: Ready False NotEnforced, no Reconciling', () => {
    const before = withEnforcement(undefined, applied(), pending, ctx);
    const next = withEnforcement(
      before as SoftTenantStatus,
      applied(before.conditions?.filter((c) => c.type !== 'Ready')),
      broken,
      ctx,
    );
    expect(findCondition(next.conditions, 'Ready')).to.include({ status: 'False', reason: 'NotEnforced' });
    expect(findCondition(next.conditions, 'Reconciling')).to.equal(undefined);
  });

  it('leaves Ready of a stalled or failing tenant as it is, but still reports enforcement', () => {
    const stalled: OwnedStatus = {
      ...applied(),
      conditions: [cond('Ready', 'False', 'NamespaceConflict'), cond('Stalled', 'True', 'NamespaceConflict')],
    };
    const next = withEnforcement(undefined, stalled, enforced, ctx);
    expect(findCondition(next.conditions, 'Ready')).to.include({
      status: 'False',
      reason: 'NamespaceConflict',
    });
    expect(findCondition(next.conditions, 'Enforced')).to.include({ status: 'True' });
  });

  it('measures the time from losing enforcement to regaining it', () => {
    const prev: SoftTenantStatus = {
      conditions: [cond('Enforced', 'False', 'AwaitingEnforcement', t0)],
      enforcement: { nodes: 2, enforced: 1 },
    };
    const next = withEnforcement(prev, applied(), enforced, ctx);
    expect(next.enforcement?.lastEnforcedSeconds).to.equal(7);
    // Staying enforced keeps the figure (and so writes nothing new).
    const later = withEnforcement(next as SoftTenantStatus, applied(), enforced, {
      ...ctx,
      now: '2026-01-01T00:05:00Z',
    });
    expect(later.enforcement?.lastEnforcedSeconds).to.equal(7);
    // A new tenant counts from its creation.
    expect(withEnforcement(undefined, applied(), enforced, ctx).enforcement?.lastEnforcedSeconds).to.equal(
      67,
    );
  });

  it('is stable: the same inputs against the stored result need no write, whatever the key order', () => {
    const first = withEnforcement(undefined, applied(), enforced, ctx);
    const stored = JSON.parse(
      JSON.stringify({
        ...first,
        enforcement: { summary: '2/2', lastEnforcedSeconds: 67, enforced: 2, nodes: 2 },
      }),
    ) as SoftTenantStatus;
    const again = withEnforcement(
      stored,
      applied(stored.conditions?.filter((c) => c.type !== 'Ready')),
      enforced,
      { ...ctx, now: '2026-01-01T00:09:00Z' },
    );
    expect(ownedStatusEqual(stored, again)).to.equal(true);
  });
});
