// ReportWriter through its port (NodeReportApi) with a hand-moved clock: when it writes, what it
// skips, how it retries and recreates the object, and how condition transition times behave.
import { expect } from 'chai';
import type { NodeEnforcementStatus } from '../../operator/api/nodeenforcement.js';
import type { ReportContent } from '../../operator/agent/ports.js';
import { ReportWriter, type NodeReportApi } from '../../operator/agent/report-writer.js';
import { logger } from '../../operator/util/logger.js';
import { ManualClock } from '../support/manual-clock.js';

const log = logger('test');

/** An in-memory NodeEnforcement collection that records each call and can be made to fail. */
class MemoryReports implements NodeReportApi {
  objects = new Map<string, NodeEnforcementStatus | undefined>();
  calls: string[] = [];
  failPatches = 0;

  exists(node: string): Promise<boolean> {
    this.calls.push('exists');
    return Promise.resolve(this.objects.has(node));
  }

  create(node: string): Promise<'created' | 'exists'> {
    this.calls.push('create');
    if (this.objects.has(node)) return Promise.resolve('exists');
    this.objects.set(node, undefined);
    return Promise.resolve('created');
  }

  patchStatus(node: string, status: NodeEnforcementStatus): Promise<'patched' | 'missing'> {
    this.calls.push('patch');
    if (this.failPatches > 0) {
      this.failPatches--;
      return Promise.reject(new Error('connection refused'));
    }
    if (!this.objects.has(node)) return Promise.resolve('missing');
    this.objects.set(node, status);
    return Promise.resolve('patched');
  }

  status(node = 'node-a'): NodeEnforcementStatus | undefined {
    return this.objects.get(node);
  }
}

function content(over: Partial<ReportContent> = {}): ReportContent {
  return {
    backend: 'nft',
    lastSyncTime: '2026-12-01T12:00:00Z',
    lastSyncDurationMs: 3,
    chains: 2,
    policies: [],
    conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'ok', lastTransitionTime: '' }],
    ...over,
  };
}

describe('ReportWriter (node report, through its port, with a manual clock)', () => {
  let clock: ManualClock;
  let api: MemoryReports;
  let writer: ReportWriter;

  beforeEach(() => {
    clock = new ManualClock();
    api = new MemoryReports();
    writer = new ReportWriter(
      api,
      'node-a',
      { heartbeatMs: 10_000, minIntervalMs: 1_000, clock, random: () => 0.5 },
      log,
    );
  });

  afterEach(() => {
    writer.stop();
    expect(clock.pending, 'timers left after stop').to.equal(0);
  });

  it('creates the object once, then writes the status with a heartbeat', async () => {
    writer.update(content());
    await clock.advance(0);
    expect(api.calls).to.deep.equal(['exists', 'create', 'patch']);
    expect(writer.writes).to.equal(2);
    expect(api.status()).to.include({ backend: 'nft', chains: 2, heartbeatSeconds: 10 });
    expect(api.status()?.heartbeatTime).to.equal('2026-12-01T12:00:00Z');
  });

  it('skips a write when only volatile fields changed, and renews the heartbeat when it is due', async () => {
    writer.update(content());
    await clock.advance(0);
    const patches = (): number => api.calls.filter((c) => c === 'patch').length;
    await clock.advance(2_000);
    writer.update(content({ lastSyncTime: '2026-12-01T12:00:02Z', lastSyncDurationMs: 9 }));
    await clock.advance(5_000);
    expect(patches(), 'volatile change').to.equal(1);
    await clock.advance(3_000);
    expect(patches(), 'heartbeat at 10 s').to.equal(2);
    expect(api.status()?.heartbeatTime).to.equal('2026-12-01T12:00:10Z');
    expect(api.status()?.lastSyncDurationMs, 'the heartbeat carries the latest volatile fields').to.equal(9);
  });

  it('spaces writes by minIntervalMs: a burst of changes becomes one write of the last', async () => {
    writer.update(content());
    await clock.advance(0);
    for (let chains = 3; chains < 20; chains++) writer.update(content({ chains }));
    await clock.advance(999);
    expect(api.calls.filter((c) => c === 'patch')).to.have.length(1);
    await clock.advance(1);
    expect(api.calls.filter((c) => c === 'patch')).to.have.length(2);
    expect(api.status()?.chains).to.equal(19);
  });

  it('retries a failed write with backoff, not at once', async () => {
    api.failPatches = 2;
    writer.update(content());
    await clock.advance(0);
    expect(api.status(), 'nothing written yet').to.equal(undefined);
    const attempts = (): number => api.calls.filter((c) => c === 'patch').length;
    expect(attempts()).to.equal(1);
    await clock.advance(499);
    expect(attempts(), 'no retry before the first backoff (500 ms)').to.equal(1);
    await clock.advance(1);
    expect(attempts()).to.equal(2);
    await clock.advance(999);
    expect(attempts(), 'the second backoff is 1 s').to.equal(2);
    await clock.advance(1);
    expect(attempts()).to.equal(3);
    expect(api.status()?.chains).to.equal(2);
  });

  it('recreates the object when it was deleted', async () => {
    writer.update(content());
    await clock.advance(0);
    api.objects.delete('node-a');
    writer.update(content({ chains: 5 }));
    await clock.advance(1_000);
    expect(api.status(), 'the patch found the object gone').to.equal(undefined);
    await clock.advance(500);
    expect(api.status()?.chains).to.equal(5);
    expect(api.calls.filter((c) => c === 'create')).to.have.length(2);
  });

  it("keeps a condition's lastTransitionTime while its status stays, and moves it when it changes", async () => {
    writer.update(content());
    await clock.advance(0);
    const first = api.status()?.conditions?.[0].lastTransitionTime;
    expect(first).to.equal('2026-12-01T12:00:00Z');
    await clock.advance(3_000);
    writer.update(content({ chains: 7 }));
    await clock.advance(0);
    expect(api.status()?.conditions?.[0].lastTransitionTime).to.equal(first);
    const failed = {
      type: 'Ready',
      status: 'False' as const,
      reason: 'ApplyFailed',
      message: 'x',
      lastTransitionTime: '',
    };
    writer.update(content({ conditions: [failed] }));
    await clock.advance(1_000);
    expect(api.status()?.conditions?.[0]).to.include({
      status: 'False',
      lastTransitionTime: '2026-12-01T12:00:04Z',
    });
  });

  it('flush() writes what is pending at once, and stop() leaves no timer', async () => {
    writer.update(content());
    await clock.advance(0);
    writer.update(content({ chains: 9 }));
    await writer.flush();
    expect(api.status()?.chains).to.equal(9);
  });
});
