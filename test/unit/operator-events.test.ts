// The Event recorder's queue, budget, series and spam filter, against an in-memory sink and a
// clock the tests move (no real waits).
import { expect } from 'chai';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import type {
  EventRecord,
  EventRef,
  EventSeries,
  EventSink,
  TenantEvent,
} from '../../operator/controller/client.js';
import { clauseList, EventRecorder, type RateLimiter } from '../../operator/controller/recorder.js';
import { ManualClock, settle } from '../support/manual-clock.js';

const MIN = 60_000;

function tenant(name: string): SoftTenant {
  return {
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'SoftTenant',
    metadata: { name, uid: `uid-${name}` },
    spec: {},
  };
}

function event(name: string, note: string, type: 'Normal' | 'Warning' = 'Normal', reason = 'R'): TenantEvent {
  return { tenant: tenant(name), type, reason, action: 'A', note };
}

/** Records what the recorder sends: "create t/note" and "update event-N count". */
class Sink implements EventSink {
  readonly log: string[] = [];
  readonly records: EventRecord[] = [];
  readonly series: { ref: EventRef; series: EventSeries }[] = [];
  failCreates = false;
  private n = 0;
  createEvent(event: EventRecord): Promise<EventRef> {
    if (this.failCreates) return Promise.reject(new Error('forbidden'));
    this.n += 1;
    this.records.push(event);
    this.log.push(`create ${event.regarding.name}/${event.note}`);
    return Promise.resolve({ namespace: 'default', name: `event-${this.n}` });
  }
  updateEventSeries(ref: EventRef, series: EventSeries): Promise<void> {
    this.log.push(`update ${ref.name} ${series.count}`);
    this.series.push({ ref, series });
    return Promise.resolve();
  }
}

/** A budget whose tokens the test hands out. */
class HeldBudget implements RateLimiter {
  private readonly waiting: (() => void)[] = [];
  take(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  get waiters(): number {
    return this.waiting.length;
  }
  grant(n: number): void {
    for (const resolve of this.waiting.splice(0, n)) resolve();
  }
}

describe('event recorder: series instead of repeats', () => {
  it('creates an Event once, patches its series on the first repeat, then once more when the repeats stop', async () => {
    const clock = new ManualClock();
    const sink = new Sink();
    const recorder = new EventRecorder(sink, { clock });
    recorder.record(event('t', 'x failed', 'Warning'));
    await settle();
    expect(sink.log).to.deep.equal(['create t/x failed']);
    for (let i = 0; i < 4; i++) {
      await clock.advance(MIN);
      recorder.record(event('t', 'x failed', 'Warning'));
    }
    await settle();
    // The first repeat at once; the three after it are counted, not sent.
    expect(sink.log).to.deep.equal(['create t/x failed', 'update event-1 2']);
    expect(recorder.stats().folded).to.equal(4);
    // Six minutes without a repeat close the series with its final count.
    await clock.advance(7 * MIN);
    expect(sink.log).to.deep.equal(['create t/x failed', 'update event-1 2', 'update event-1 5']);
    expect(sink.series.at(-1)?.series.lastObservedTime.getTime()).to.equal(clock.now() - 7 * MIN);
    expect(recorder.stats().openSeries).to.equal(0);
    // After that, the same Event is news again.
    recorder.record(event('t', 'x failed', 'Warning'));
    await settle();
    expect(sink.log.at(-1)).to.equal('create t/x failed');
    await recorder.close();
  });

  it('refreshes a series that goes on at most every 30 minutes', async () => {
    const clock = new ManualClock();
    const sink = new Sink();
    const recorder = new EventRecorder(sink, { clock });
    recorder.record(event('t', 'stuck', 'Warning'));
    // A retry every two minutes (the queue's longest backoff) for 65 minutes.
    for (let i = 0; i < 33; i++) {
      await clock.advance(2 * MIN);
      recorder.record(event('t', 'stuck', 'Warning'));
    }
    await settle();
    const updates = sink.log.filter((l) => l.startsWith('update'));
    expect(sink.log.filter((l) => l.startsWith('create'))).to.have.length(1);
    // The first repeat, then one refresh per 30 minutes.
    expect(updates).to.have.length(3);
    expect(updates[0]).to.equal('update event-1 2');
    await recorder.close();
    expect(sink.log.at(-1)).to.equal('update event-1 34');
  });

  it('keeps Events with different notes, types or tenants apart', async () => {
    const sink = new Sink();
    const recorder = new EventRecorder(sink, { clock: new ManualClock() });
    recorder.record(event('t', 'created a/p'));
    recorder.record(event('t', 'created a/q'));
    recorder.record(event('u', 'created a/p'));
    recorder.record(event('t', 'created a/p', 'Warning'));
    recorder.record(event('t', 'created a/p'));
    await recorder.idle();
    expect(sink.log).to.deep.equal([
      'create t/created a/p',
      'create t/created a/q',
      'create u/created a/p',
      'create t/created a/p',
      'update event-1 2',
    ]);
    await recorder.close();
  });

  it('folds a repeat that comes while the create is in flight, and sends its count once the Event exists', async () => {
    const budget = new HeldBudget();
    const sink = new Sink();
    const recorder = new EventRecorder(sink, { clock: new ManualClock(), budget });
    recorder.record(event('t', 'n'));
    recorder.record(event('t', 'n'));
    budget.grant(1);
    await settle();
    expect(sink.log).to.deep.equal(['create t/n']);
    budget.grant(1);
    await recorder.idle();
    expect(sink.log).to.deep.equal(['create t/n', 'update event-1 2']);
  });
});

describe('event recorder: per-tenant spam filter', () => {
  it('lets 25 new Events of a tenant through at once, then one per 5 minutes; other tenants are not affected', async () => {
    const clock = new ManualClock();
    const sink = new Sink();
    const recorder = new EventRecorder(sink, { clock });
    for (let i = 0; i < 30; i++) recorder.record(event('noisy', `change ${i}`));
    recorder.record(event('quiet', 'change 0'));
    await recorder.idle();
    expect(sink.log.filter((l) => l.startsWith('create noisy/'))).to.have.length(25);
    expect(sink.log).to.include('create quiet/change 0');
    expect(recorder.stats().spam).to.equal(5);
    await clock.advance(5 * MIN);
    recorder.record(event('noisy', 'change 30'));
    recorder.record(event('noisy', 'change 31'));
    await recorder.idle();
    expect(sink.log.filter((l) => l.startsWith('create noisy/'))).to.have.length(26);
    await recorder.close();
  });
});

describe('event recorder: in the background, on its own budget', () => {
  it('returns before anything is sent, waits for the budget, sends at most `senders` at once, and drops past the backlog', async () => {
    const budget = new HeldBudget();
    const sink = new Sink();
    const recorder = new EventRecorder(sink, { clock: new ManualClock(), budget, senders: 2, maxBacklog: 3 });
    for (const note of ['1', '2', '3', '4', '5', '6', '7']) recorder.record(event('t', note));
    // Two senders wait for a token, three Events wait for a sender, two were dropped.
    await settle();
    expect(sink.log).to.deep.equal([]);
    expect(budget.waiters).to.equal(2);
    expect(recorder.stats()).to.include({ waiting: 3, inFlight: 2, dropped: 2 });
    let idle = false;
    void recorder.idle().then(() => (idle = true));
    budget.grant(1);
    await settle();
    expect(sink.log).to.deep.equal(['create t/1']);
    expect(idle).to.equal(false);
    for (let i = 0; i < 4; i++) {
      budget.grant(1);
      await settle();
    }
    expect(idle).to.equal(true);
    expect(sink.log).to.deep.equal(['create t/1', 'create t/2', 'create t/3', 'create t/4', 'create t/5']);
  });

  it('gives a Warning the place of a waiting Normal Event when the backlog is full', async () => {
    const budget = new HeldBudget();
    const sink = new Sink();
    const recorder = new EventRecorder(sink, { clock: new ManualClock(), budget, senders: 1, maxBacklog: 2 });
    recorder.record(event('t', 'n1'));
    recorder.record(event('t', 'n2'));
    recorder.record(event('t', 'n3'));
    recorder.record(event('t', 'w', 'Warning', 'ApplyFailed'));
    recorder.record(event('t', 'w2', 'Warning', 'ApplyFailed'));
    recorder.record(event('t', 'w3', 'Warning', 'ApplyFailed'));
    for (let i = 0; i < 5; i++) {
      budget.grant(1);
      await settle();
    }
    expect(sink.log).to.deep.equal(['create t/n1', 'create t/w', 'create t/w2']);
    expect(recorder.stats().dropped).to.equal(3);
  });

  it('never fails the caller when the API refuses the Event, and tries a new one the next time', async () => {
    const sink = new Sink();
    sink.failCreates = true;
    const recorder = new EventRecorder(sink, { clock: new ManualClock() });
    recorder.record(event('t', 'n'));
    await recorder.idle();
    expect(recorder.stats().failed).to.equal(1);
    sink.failCreates = false;
    recorder.record(event('t', 'n'));
    await recorder.idle();
    expect(sink.log).to.deep.equal(['create t/n']);
  });

  it('keeps only the name and uid of the tenant, not the object', async () => {
    const sink = new Sink();
    const recorder = new EventRecorder(sink, { clock: new ManualClock() });
    const t = tenant('t');
    t.status = { conditions: [] };
    recorder.record({ tenant: t, type: 'Normal', reason: 'R', action: 'A', note: 'n' });
    await recorder.idle();
    expect(sink.records).to.deep.equal([
      { regarding: { name: 't', uid: 'uid-t' }, type: 'Normal', reason: 'R', action: 'A', note: 'n' },
    ]);
  });
});

describe('clauseList', () => {
  it('joins sentences and shortens long lists', () => {
    expect(clauseList(['a', 'b'])).to.equal('a; b');
    expect(clauseList(['1', '2', '3', '4', '5', '6', '7'])).to.equal('1; 2; 3; 4; 5; and 2 more');
  });
});
