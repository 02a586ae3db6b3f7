import { expect } from 'chai';
import {
  decideLease,
  heldLeaseSpec,
  releasedLeaseSpec,
  type LeaseDecisionInput,
  type LeaseSpec,
} from '../../operator/kube/lease-decision.js';
import { microTime } from '../../operator/util/time.js';
import { validateTimings, defaultIdentity } from '../../operator/kube/leader-election.js';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);
const held = (holder: string, renewedAt: number, duration = 15): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: duration,
  acquireTime: microTime(at(renewedAt - 100)),
  renewTime: microTime(at(renewedAt)),
  leaseTransitions: 3,
});
const input = (over: Partial<LeaseDecisionInput>): LeaseDecisionInput => ({
  lease: undefined,
  identity: 'me',
  now: at(0),
  defaultDurationSeconds: 15,
  ...over,
});

describe('leader election: lease decisions', () => {
  const cases: {
    name: string;
    input: LeaseDecisionInput;
    action: string;
    detail?: Record<string, unknown>;
  }[] = [
    { name: 'no Lease object: create it', input: input({}), action: 'create' },
    { name: 'held by me: renew', input: input({ lease: held('me', -3) }), action: 'renew' },
    {
      name: 'held by me but expired (e.g. restarted with the same pod name): still mine, renew',
      input: input({ lease: held('me', -60), now: at(0) }),
      action: 'renew',
    },
    {
      name: 'released (no holder): acquire at once',
      input: input({ lease: { leaseDurationSeconds: 1, renewTime: microTime(at(0)) } }),
      action: 'acquire',
      detail: { reason: 'free' },
    },
    {
      name: 'empty holder string counts as free',
      input: input({ lease: { ...held('x', 0), holderIdentity: '' } }),
      action: 'acquire',
      detail: { reason: 'free' },
    },
    {
      name: 'held by another and renewed recently: wait until renewTime + duration',
      input: input({ lease: held('other', -5), now: at(0), firstSeenAt: at(-5) }),
      action: 'wait',
      detail: { holder: 'other', expiresAt: at(10) },
    },
    {
      name: 'held by another, expired by both clocks: acquire',
      input: input({ lease: held('other', -20), now: at(0), firstSeenAt: at(-16) }),
      action: 'acquire',
      detail: { reason: 'expired', previousHolder: 'other' },
    },
    {
      name: 'exactly at expiry: acquire',
      input: input({ lease: held('other', -15), now: at(0), firstSeenAt: at(-15) }),
      action: 'acquire',
    },
    {
      name: 'renewTime long past but only just observed: wait one duration from first sight (skew-safe)',
      input: input({ lease: held('other', -600), now: at(0), firstSeenAt: at(-2) }),
      action: 'wait',
      detail: { expiresAt: at(13) },
    },
    {
      name: 'no observation yet counts as observed now',
      input: input({ lease: held('other', -600), now: at(0) }),
      action: 'wait',
      detail: { expiresAt: at(15) },
    },
    {
      name: 'unchanged for a duration by my clock, but renewTime says it is still valid (holder clock ahead): wait',
      input: input({ lease: held('other', 10), now: at(0), firstSeenAt: at(-30) }),
      action: 'wait',
      detail: { expiresAt: at(25) },
    },
    {
      name: 'the Lease duration wins over my default',
      input: input({ lease: held('other', -5, 3), now: at(0), firstSeenAt: at(-5) }),
      action: 'acquire',
    },
    {
      name: 'missing duration: my default',
      input: input({ lease: { ...held('other', -5), leaseDurationSeconds: null }, firstSeenAt: at(-5) }),
      action: 'wait',
      detail: { expiresAt: at(10) },
    },
    {
      name: 'missing renewTime: acquireTime stands in',
      input: input({
        lease: { holderIdentity: 'other', leaseDurationSeconds: 15, acquireTime: microTime(at(5)) },
        firstSeenAt: at(-20),
      }),
      action: 'wait',
      detail: { expiresAt: at(20) },
    },
    {
      name: 'no times at all: one duration from first sight',
      input: input({ lease: { holderIdentity: 'other' }, firstSeenAt: at(-16) }),
      action: 'acquire',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const decision = decideLease(c.input);
      expect(decision.action).to.equal(c.action);
      if (c.detail) expect(decision).to.deep.include(c.detail);
    });
  }
});

describe('leader election: what is written', () => {
  it('a renewal keeps holder, acquireTime and transitions and moves renewTime', () => {
    const prev = held('me', -2);
    const next = heldLeaseSpec(prev, 'me', at(0), 15);
    expect(next).to.deep.equal({ ...prev, renewTime: '2026-01-01T00:00:00.000000Z' });
  });

  it('taking over counts a transition and sets acquireTime', () => {
    const next = heldLeaseSpec(held('other', -20), 'me', at(1.5), 4);
    expect(next).to.deep.equal({
      holderIdentity: 'me',
      leaseDurationSeconds: 4,
      acquireTime: '2026-01-01T00:00:01.500000Z',
      renewTime: '2026-01-01T00:00:01.500000Z',
      leaseTransitions: 4,
    });
  });

  it('taking a released Lease counts a transition too; creating one starts at zero', () => {
    expect(
      heldLeaseSpec(releasedLeaseSpec(held('other', 0), at(1)), 'me', at(2), 15).leaseTransitions,
    ).to.equal(4);
    expect(heldLeaseSpec(undefined, 'me', at(2), 15).leaseTransitions).to.equal(0);
  });

  it('a release clears the holder so that others may take it at once', () => {
    const released = releasedLeaseSpec(held('me', -1), at(0));
    expect(released).to.deep.equal({
      leaseDurationSeconds: 1,
      renewTime: '2026-01-01T00:00:00.000000Z',
      leaseTransitions: 3,
    });
    expect(decideLease(input({ lease: released, identity: 'other' }))).to.deep.equal({
      action: 'acquire',
      reason: 'free',
    });
  });

  it('writes MicroTime with exactly six fractional digits', () => {
    expect(microTime(new Date('2026-03-04T05:06:07.089Z'))).to.equal('2026-03-04T05:06:07.089000Z');
  });
});

describe('leader election: timings and identity', () => {
  it('accepts the defaults and short test timings', () => {
    expect(() =>
      validateTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).to.not.throw();
    expect(() =>
      validateTimings({ leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 }),
    ).to.not.throw();
  });

  it('refuses timings that could let a leader outlive its Lease', () => {
    expect(() =>
      validateTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).to.throw(/renew deadline must be shorter/);
    expect(() =>
      validateTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
    ).to.throw(/retry period/);
    expect(() =>
      validateTimings({ leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 100 }),
    ).to.throw(/whole number of seconds/);
  });

  it('uses POD_NAME when set, else a host name with a random suffix', () => {
    expect(defaultIdentity({ POD_NAME: 'softtenant-operator-abc' })).to.equal('softtenant-operator-abc');
    const a = defaultIdentity({});
    const b = defaultIdentity({});
    expect(a).to.match(/^.+_[0-9a-f]{8}$/);
    expect(a).to.not.equal(b);
  });
});
