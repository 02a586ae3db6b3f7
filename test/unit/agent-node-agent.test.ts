// NodeAgent through its ports (cluster source, render, dataplane, report, metrics observer) with
// a hand-moved clock: the first sync is full and waits for the caches; a change syncs again;
// a failed apply keeps the last good report, says why, and is retried with backoff until it
// succeeds; the periodic resync is full; stop leaves no timer.
import { expect } from 'chai';
import { NodeAgent } from '../../operator/agent/node-agent.js';
import type {
  ClusterSource,
  DataplaneApplier,
  ReportContent,
  ReportSink,
} from '../../operator/agent/ports.js';
import { renderNode, type NodeRender } from '../../operator/dataplane/render-node.js';
import type { SyncObservation } from '../../operator/metrics/agent-metrics.js';
import type { ClusterObjects } from '../../operator/netpol/types.js';
import { logger } from '../../operator/util/logger.js';
import { ManualClock, settle } from '../support/manual-clock.js';
import { ns, pod, policy } from './netpol-fixtures.js';

const NODE = 'node-a';

class FixedCluster implements ClusterSource {
  private changed: () => void = () => undefined;
  private markSynced: () => void = () => undefined;
  private readonly listed = new Promise<void>((r) => (this.markSynced = r));
  stopped = false;

  constructor(public current: ClusterObjects) {}
  start(changed: () => void): void {
    this.changed = changed;
  }
  synced(): Promise<void> {
    return this.listed;
  }
  snapshot(): ClusterObjects {
    return this.current;
  }
  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
  /** The first list arrived. */
  list(): void {
    this.markSynced();
  }
  set(next: ClusterObjects): void {
    this.current = next;
    this.changed();
  }
}

class RecordingDataplane implements DataplaneApplier {
  readonly backend = 'nft';
  applied: { render: NodeRender; full: boolean }[] = [];
  failures = 0;
  cuts: NodeRender[] = [];
  /** When set, the next cut hangs until release() (a huge conntrack table). */
  hold = false;
  private holdCut: (() => void) | undefined;
  private held: Promise<void> | undefined;
  apply(render: NodeRender, opts: { full: boolean; cutFlows: false }): Promise<{ changed: boolean }> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('iptables-restore: line 3 failed'));
    }
    this.applied.push({ render, full: opts.full });
    return Promise.resolve({ changed: true });
  }
  async cutFlows(render: () => NodeRender): Promise<void> {
    if (this.hold) {
      this.hold = false;
      this.held = new Promise<void>((r) => (this.holdCut = r));
    }
    // The judge is asked for after the (held) listing, as NodeDataplane.cutFlows does.
    if (this.held) await this.held;
    this.cuts.push(render());
  }
  release(): void {
    this.holdCut?.();
    this.held = undefined;
  }
  cleanup(): Promise<void> {
    return Promise.resolve();
  }
}

class RecordingReport implements ReportSink {
  updates: ReportContent[] = [];
  flushed = 0;
  stopped = false;
  update(content: ReportContent): void {
    this.updates.push(content);
  }
  flush(): Promise<void> {
    this.flushed++;
    return Promise.resolve();
  }
  stop(): void {
    this.stopped = true;
  }
  get last(): ReportContent {
    return this.updates[this.updates.length - 1];
  }
}

function cluster(extraPods = 0): ClusterObjects {
  const pods = [
    pod('shop', 'web', { ip: '10.0.1.1', labels: { app: 'web' } }),
    pod('shop', 'db', { ip: '10.0.1.2', labels: { app: 'db' } }),
    ...Array.from({ length: extraPods }, (_, i) =>
      pod('shop', `web-${i}`, { ip: `10.0.1.${10 + i}`, labels: { app: 'web' } }),
    ),
  ];
  const policies = [
    policy('shop', 'db-from-web', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
    }),
  ];
  policies[0].metadata.uid = 'uid-1';
  policies[0].metadata.generation = 2;
  return { namespaces: [ns('shop')], pods, policies };
}

describe('NodeAgent (through its ports, with a manual clock)', () => {
  let clock: ManualClock;
  let source: FixedCluster;
  let dataplane: RecordingDataplane;
  let report: RecordingReport;
  let observed: SyncObservation[];
  let agent: NodeAgent;

  beforeEach(() => {
    clock = new ManualClock();
    source = new FixedCluster(cluster());
    dataplane = new RecordingDataplane();
    report = new RecordingReport();
    observed = [];
    agent = new NodeAgent(
      source,
      (snapshot, node) => renderNode(snapshot, node),
      dataplane,
      report,
      {
        node: NODE,
        resyncMs: 60_000,
        clock,
        random: () => 0.5,
        observer: { synced: (o) => void observed.push(o) },
      },
      logger('test'),
    );
  });

  afterEach(async () => {
    await agent.stop();
    expect(clock.pending, 'timers left after stop').to.equal(0);
    expect(source.stopped).to.equal(true);
  });

  it('programs nothing before the caches listed, then syncs in full and reports what it enforces', async () => {
    const started = agent.start();
    await clock.advance(1_000);
    expect(dataplane.applied, 'before the first list').to.have.length(0);
    source.list();
    await started;
    await clock.advance(50);
    expect(dataplane.applied.map((a) => a.full)).to.deep.equal([true]);
    expect(agent.syncs).to.equal(1);
    expect(report.last).to.deep.include({
      backend: 'nft',
      localPods: 2,
      policies: [{ namespace: 'shop', name: 'db-from-web', uid: 'uid-1', generation: 2 }],
      errors: [],
      lastSyncTime: '2026-12-01T12:00:01Z',
    });
    expect(report.last.conditions?.[0]).to.include({ type: 'Ready', status: 'True', reason: 'Synced' });
    expect(observed[0]).to.deep.include({ full: true, ok: true });
    expect(observed[0].programmed).to.include({ policies: 1, policyErrors: 0, localPods: 2 });
  });

  it('programs rules without waiting for the flow cut, which runs behind them with the newest render', async () => {
    dataplane.hold = true;
    const started = agent.start();
    source.list();
    await started;
    await clock.advance(50);
    await clock.advance(250); // the first cut starts and hangs (its listing never returns)
    expect(dataplane.cuts, 'no cut finished yet').to.have.length(0);
    source.set(cluster(1));
    await clock.advance(50);
    source.set(cluster(2));
    await clock.advance(50);
    expect(
      dataplane.applied.map((a) => a.render.model.pods.length),
      'syncs went on',
    ).to.deep.equal([2, 3, 4]);
    expect(report.last.localPods).to.equal(4);
    dataplane.release();
    await clock.advance(250);
    await agent.cuts.idle();
    // The hung cut judged with the newest render; the requests made meanwhile became one more.
    expect(dataplane.cuts.map((r) => r.model.pods.length)).to.deep.equal([4, 4]);
    expect(agent.cuts.runs).to.equal(2);
  });

  it('syncs again (not in full) when the cluster changes, and merges a burst into one sync', async () => {
    const started = agent.start();
    source.list();
    await started;
    await clock.advance(50);
    for (let i = 1; i <= 5; i++) source.set(cluster(i));
    await clock.advance(50);
    expect(dataplane.applied.map((a) => a.full)).to.deep.equal([true, false]);
    expect(report.last.localPods).to.equal(7);
  });

  it('keeps the last good report when an apply fails, says why, and retries with backoff until it succeeds', async () => {
    const started = agent.start();
    source.list();
    await started;
    await clock.advance(50);
    const good = report.last;
    dataplane.failures = 2;
    source.set(cluster(1));
    await clock.advance(50);
    expect(report.last).to.deep.include({ chains: good.chains, policies: good.policies, localPods: 2 });
    expect(report.last.errors).to.deep.equal([
      { namespace: '', name: '', reason: 'ApplyFailed', message: 'iptables-restore: line 3 failed' },
    ]);
    expect(report.last.conditions?.[0]).to.include({ status: 'False', reason: 'ApplyFailed' });
    expect(observed[observed.length - 1]).to.deep.include({ ok: false, failedStage: 'apply' });
    expect(agent.lastSync?.ok).to.equal(false);

    await clock.advance(499);
    expect(dataplane.applied, 'no retry before the backoff (500 ms)').to.have.length(1);
    await clock.advance(1 + 50);
    expect(
      observed.filter((o) => !o.ok),
      'the first retry fails too',
    ).to.have.length(2);
    await clock.advance(1_000 + 50);
    expect(dataplane.applied, 'the second retry, after 1 s, succeeds').to.have.length(2);
    expect(report.last.errors).to.deep.equal([]);
    expect(report.last.localPods).to.equal(3);
    expect(report.last.conditions?.[0]).to.include({ status: 'True' });
  });

  it('a render failure is reported as such and leaves the dataplane alone', async () => {
    const failing = new NodeAgent(
      source,
      () => {
        throw new Error('render exploded');
      },
      dataplane,
      report,
      {
        node: NODE,
        resyncMs: 60_000,
        clock,
        random: () => 0.5,
        observer: { synced: (o) => void observed.push(o) },
      },
      logger('test'),
    );
    const started = failing.start();
    source.list();
    await started;
    await clock.advance(50);
    expect(dataplane.applied).to.have.length(0);
    expect(observed[0]).to.deep.include({ ok: false, failedStage: 'render' });
    expect(report.last.conditions?.[0]).to.include({
      status: 'False',
      reason: 'ApplyFailed',
      message: 'render exploded',
    });
    await failing.stop();
  });

  it('resyncs in full every resyncMs', async () => {
    const started = agent.start();
    source.list();
    await started;
    await clock.advance(50);
    await clock.advance(60_000 + 50);
    await clock.advance(60_000 + 50);
    expect(dataplane.applied.map((a) => a.full)).to.deep.equal([true, true, true]);
  });

  it('stop() flushes and stops the report and ends every timer', async () => {
    const started = agent.start();
    source.list();
    await started;
    await clock.advance(50);
    await agent.stop();
    await settle();
    expect(report.flushed).to.equal(1);
    expect(report.stopped).to.equal(true);
    source.set(cluster(2));
    await clock.advance(120_000);
    expect(dataplane.applied, 'nothing after stop').to.have.length(1);
  });
});
