// Operator HA against the real API server: two (and more) real operator processes with
// --leader-elect share one Lease; exactly one leads and reconciles, both are Ready; a SIGKILLed
// leader is replaced within a bounded time; SIGTERM releases the Lease, so a standby takes over
// at once, and exits 0; a leader that finds its Lease taken exits 1. In-process electors racing
// for one Lease show that the resourceVersion precondition lets only one win.
import { expect } from 'chai';
import winston from 'winston';
import { loadKubeConfig } from '../../operator/kube/config.js';
import { LeaderElector } from '../../operator/kube/leader-election.js';
import { KubeLeaseClient } from '../../operator/kube/leases.js';
import { kubectl } from '../support/controlplane.js';
import { probe, sample, scrape } from '../support/endpoints.js';
import { installAllCrds, removeCrds, waitForWatch } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import {
  createNamespace,
  deleteObjects,
  getObject,
  releaseFinalizers,
  tryKubectl,
  type Obj,
} from '../support/kube-json.js';
import { OperatorProcess } from '../support/operator-process.js';
import {
  applyTenant,
  expectReady,
  FINALIZER,
  getTenant,
  softTenant,
} from '../support/softtenant-fixtures.js';

const LEASE_NAME = 'softtenant-operator';
// Short timings so the test is quick; the same ratios as the defaults (15s/10s/2s).
const LEASE_DURATION_MS = 5_000;
const RENEW_DEADLINE_MS = 4_000;
const RETRY_PERIOD_MS = 500;

const suffix = Math.random().toString(36).slice(2, 7);
const leaseNamespace = `le-${suffix}`;
const raceNamespace = `le-race-${suffix}`;

interface LeaseView {
  metadata: { resourceVersion?: string };
  spec: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string };
}

function lease(name = LEASE_NAME, namespace = leaseNamespace): LeaseView | undefined {
  return getObject('lease', name, namespace) as (Obj & LeaseView) | undefined;
}

/** The identity a process logged when it started campaigning. */
function identityOf(op: OperatorProcess): string {
  const line = op.lines.find((l) => l.message === 'waiting to lead');
  if (typeof line?.identity !== 'string') throw new Error('the process has not logged its identity yet');
  return line.identity;
}

function timeOf(op: OperatorProcess, message: string): number {
  const line = op.lines.find((l) => l.message === message);
  if (typeof line?.timestamp !== 'string') throw new Error(`no '${message}' line yet`);
  return Date.parse(line.timestamp);
}

describe('operator: leader election (two operator processes, one Lease)', function () {
  this.timeout(240_000);
  const operators: OperatorProcess[] = [];
  const tenants: string[] = [];
  const namespaces = [leaseNamespace];
  let createdCrds: string[] = [];

  const startOperator = (): OperatorProcess => {
    const op = new OperatorProcess(
      [
        '--leader-elect',
        '--leader-election-namespace',
        leaseNamespace,
        `--leader-election-lease-duration=${LEASE_DURATION_MS}ms`,
        `--leader-election-renew-deadline=${RENEW_DEADLINE_MS}ms`,
        `--leader-election-retry-period=${RETRY_PERIOD_MS}ms`,
        '--resync-period=2s',
        '--health-probe-bind-address=127.0.0.1:0',
        '--metrics-bind-address=127.0.0.1:0',
      ],
      { LOG_LEVEL: 'debug' },
    );
    operators.push(op);
    op.start();
    return op;
  };

  const leaders = (): OperatorProcess[] =>
    operators.filter((op) => op.isRunning && op.lines.some((l) => l.message === 'became leader'));

  /** A tenant with a namespace of its own, so that the leader has real writes to make. */
  const createTenant = (name: string): void => {
    tenants.push(name);
    namespaces.push(name);
    createNamespace(name);
    applyTenant(softTenant(name, { namespaces: { names: [name] }, isolation: { egress: 'Tenant' } }));
  };

  let leader: OperatorProcess;
  let standby: OperatorProcess;

  before(async function () {
    createdCrds = installAllCrds();
    await waitForWatch('/apis/tenancy.softtenant.io/v1alpha1/softtenants');
    createNamespace(leaseNamespace);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      for (const op of operators) process.stderr.write(`--- operator log tail ---\n${op.tail(25)}\n`);
    }
  });

  after(async function () {
    // Deleting the tenants needs a leader (the finalizer); start one if none runs.
    try {
      if (tenants.length > 0) {
        if (leaders().length === 0) startOperator();
        deleteObjects('softtenants', tenants);
        await eventually(() => expect(tenants.filter((t) => getTenant(t) !== undefined)).to.deep.equal([]), {
          timeoutMs: 30_000,
        }).catch(() => undefined);
      }
    } finally {
      for (const op of operators) await op.stop(5_000);
      releaseFinalizers(FINALIZER);
      deleteObjects('softtenants', tenants);
      deleteObjects('namespaces', namespaces);
      removeCrds(createdCrds);
    }
  });

  it('elects exactly one leader; only it reconciles; both replicas are Ready', async function () {
    const first = startOperator();
    const second = startOperator();
    await eventually(() => expect(leaders()).to.have.length(1), { timeoutMs: 20_000 });
    leader = leaders()[0];
    standby = leader === first ? second : first;
    await eventually(() =>
      expect(
        standby.lines.some((l) => l.message === 'standing by; the Lease is held by another candidate'),
      ).to.equal(true),
    );
    expect(lease()?.spec.holderIdentity).to.equal(identityOf(leader));
    expect(identityOf(standby)).to.not.equal(identityOf(leader));

    await eventually(async () => {
      expect(await probe(leader, '/readyz'), 'leader /readyz').to.equal(200);
      expect(await probe(standby, '/readyz'), 'standby /readyz').to.equal(200);
      expect(await probe(leader, '/healthz'), 'leader /healthz').to.equal(200);
      expect(await probe(standby, '/healthz'), 'standby /healthz').to.equal(200);
    });

    createTenant(`le-one-${suffix}`);
    await eventually(() => expectReady(`le-one-${suffix}`));
    // A few resync periods pass: the standby must stay idle through all of them.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const onLeader = await scrape(leader);
    const onStandby = await scrape(standby);
    expect(sample(onLeader, 'softtenant_leader_election_is_leader')).to.equal(1);
    expect(sample(onStandby, 'softtenant_leader_election_is_leader')).to.equal(0);
    expect(sample(onLeader, 'softtenant_reconcile_total{result="success"}')).to.be.greaterThan(0);
    expect(sample(onStandby, 'softtenant_reconcile_total{result="success"}')).to.equal(0);
    expect(sample(onStandby, 'softtenant_reconcile_total{result="error"}')).to.equal(0);
    expect(leader.lines.filter((l) => l.message === 'reconciled').length).to.be.greaterThan(0);
    expect(standby.lines.filter((l) => l.message === 'reconciled' || l.message === 'resync')).to.deep.equal(
      [],
    );
    expect(standby.writesSince(), 'writes by the standby').to.deep.equal([]);
  });

  it('hands over to the standby within a bounded time when the leader is killed', async function () {
    const killedAt = Date.now();
    leader.signal('SIGKILL');
    await eventually(() => expect(standby.lines.some((l) => l.message === 'became leader')).to.equal(true), {
      timeoutMs: 6 * LEASE_DURATION_MS,
      intervalMs: 100,
    });
    const takeoverMs = timeOf(standby, 'became leader') - killedAt;
    process.stdout.write(
      `      takeover after SIGKILL: ${(takeoverMs / 1000).toFixed(2)} s (lease duration ${LEASE_DURATION_MS / 1000} s, retry period ${RETRY_PERIOD_MS / 1000} s)\n`,
    );
    expect(takeoverMs).to.be.lessThan(3 * LEASE_DURATION_MS);
    // Not before the old leader's lease could have expired: the lease protected it to the end.
    expect(takeoverMs).to.be.greaterThan(LEASE_DURATION_MS - RETRY_PERIOD_MS * 2);
    expect(lease()?.spec.holderIdentity).to.equal(identityOf(standby));
    expect(lease()?.spec.leaseTransitions).to.be.greaterThan(0);

    leader = standby;
    createTenant(`le-two-${suffix}`);
    await eventually(() => expectReady(`le-two-${suffix}`));
    await eventually(async () => {
      expect(await probe(leader, '/readyz')).to.equal(200);
      const s = await scrape(leader);
      expect(sample(s, 'softtenant_leader_election_is_leader')).to.equal(1);
      expect(sample(s, 'softtenant_reconcile_total{result="success"}')).to.be.greaterThan(0);
    });
  });

  it('on SIGTERM releases the Lease at once, a standby takes it without waiting for expiry, and exits 0', async function () {
    standby = startOperator();
    await eventually(() =>
      expect(
        standby.lines.some((l) => l.message === 'standing by; the Lease is held by another candidate'),
      ).to.equal(true),
    );
    await eventually(async () => expect(await probe(standby, '/readyz')).to.equal(200));

    const termAt = Date.now();
    const code = await leader.stop(15_000);
    const exitMs = Date.now() - termAt;
    expect(code, 'exit code after SIGTERM').to.equal(0);
    expect(leader.lines.some((l) => l.message === 'released the Lease')).to.equal(true);
    await eventually(() => expect(standby.lines.some((l) => l.message === 'became leader')).to.equal(true), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const takeoverMs = timeOf(standby, 'became leader') - termAt;
    process.stdout.write(
      `      SIGTERM: exit 0 after ${(exitMs / 1000).toFixed(2)} s; standby took the released Lease ${(takeoverMs / 1000).toFixed(2)} s after the signal\n`,
    );
    expect(exitMs).to.be.lessThan(5_000);
    // Released, not expired: faster than one lease duration.
    expect(takeoverMs).to.be.lessThan(LEASE_DURATION_MS);
    const acquired = standby.lines.find((l) => l.message === 'acquired the Lease');
    expect(acquired?.reason).to.equal('free');

    // The last replica stops too: nobody takes over, so the Lease stays released.
    leader = standby;
    expect(await leader.stop(15_000)).to.equal(0);
    const released = lease();
    expect(released?.spec.holderIdentity ?? '', 'holderIdentity after release').to.equal('');
  });

  it('a leader that finds its Lease taken by another holder exits 1', async function () {
    const op = startOperator();
    await eventually(() => expect(op.lines.some((l) => l.message === 'became leader')).to.equal(true), {
      timeoutMs: 15_000,
    });
    // Another holder writes the Lease (as a leader elected elsewhere would).
    const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    kubectl([
      'patch',
      'lease',
      LEASE_NAME,
      '-n',
      leaseNamespace,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { holderIdentity: 'someone-else', renewTime, leaseDurationSeconds: 60 } }),
    ]);
    try {
      const code = await op.waitForExit(10_000);
      expect(code, 'exit code after losing the Lease').to.equal(1);
      expect(op.lines.some((l) => l.message === 'lost leadership')).to.equal(true);
      expect(lease()?.spec.holderIdentity).to.equal('someone-else');
    } finally {
      // Free the Lease again, so that the clean-up can run a leader without waiting for expiry.
      tryKubectl([
        'patch',
        'lease',
        LEASE_NAME,
        '-n',
        leaseNamespace,
        '--type',
        'merge',
        '-p',
        JSON.stringify({ spec: { holderIdentity: null } }),
      ]);
    }
  });
});

describe('leader election: candidates racing for one Lease', function () {
  this.timeout(60_000);
  const quiet = winston.createLogger({ silent: true });
  const electors: LeaderElector[] = [];
  const name = `race-${suffix}`;
  const goneNamespace = `le-gone-${suffix}`;

  const elector = (namespace: string, identity: string): LeaderElector => {
    const e = new LeaderElector(
      new KubeLeaseClient(loadKubeConfig(), namespace, name),
      {
        identity,
        leaseDurationMs: LEASE_DURATION_MS,
        renewDeadlineMs: RENEW_DEADLINE_MS,
        retryPeriodMs: RETRY_PERIOD_MS,
      },
      quiet,
    );
    electors.push(e);
    return e;
  };

  before(function () {
    createNamespace(raceNamespace);
    createNamespace(goneNamespace);
  });

  after(async function () {
    await Promise.all(electors.map((e) => e.release().catch(() => false)));
    deleteObjects('namespaces', [raceNamespace, goneNamespace]);
  });

  it('lets exactly one of six simultaneous candidates win, then hands the released Lease to one other', async function () {
    const lost: string[] = [];
    for (let i = 0; i < 6; i++) elector(raceNamespace, `candidate-${i}`);
    const won = electors.map((e) => e.acquire((reason) => lost.push(`${e.identity}: ${reason}`)));
    const first = await Promise.race(won.map((p, i) => p.then(() => i)));
    // Several retry periods of contention: still one leader, and it keeps renewing.
    await new Promise((resolve) => setTimeout(resolve, 4 * RETRY_PERIOD_MS));
    expect(electors.filter((e) => e.isLeader).map((e) => e.identity)).to.deep.equal([`candidate-${first}`]);
    expect(lease(name, raceNamespace)?.spec.holderIdentity).to.equal(`candidate-${first}`);
    const renewedBefore = lease(name, raceNamespace)?.spec.renewTime;
    await new Promise((resolve) => setTimeout(resolve, 3 * RETRY_PERIOD_MS));
    expect(lease(name, raceNamespace)?.spec.renewTime, 'the leader renews').to.not.equal(renewedBefore);

    expect(await electors[first].release()).to.equal(true);
    await eventually(
      () => {
        const holders = electors.filter((e) => e.isLeader).map((e) => e.identity);
        expect(holders).to.have.length(1);
        expect(holders[0]).to.not.equal(`candidate-${first}`);
        expect(lease(name, raceNamespace)?.spec.holderIdentity).to.equal(holders[0]);
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expect(lost).to.deep.equal([]);
  });

  it('a leader that cannot renew stops leading once the renew deadline has passed', async function () {
    const leader = elector(goneNamespace, 'cut-off');
    let lostAt = 0;
    let lostReason = '';
    expect(
      await leader.acquire((reason) => {
        lostAt = Date.now();
        lostReason = reason;
      }),
    ).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 3 * RETRY_PERIOD_MS));
    expect(lostAt, 'still leading while renewals succeed').to.equal(0);
    // Its Lease and namespace go away: every renewal (and re-creation) now fails.
    const cutAt = Date.now();
    deleteObjects('namespaces', [goneNamespace]);
    await eventually(() => expect(lostAt).to.be.greaterThan(0), { timeoutMs: 20_000, intervalMs: 50 });
    const lastRenewal = leader.lastRenewal?.getTime() ?? 0;
    const sinceCut = lostAt - cutAt;
    const sinceRenewal = lostAt - lastRenewal;
    process.stdout.write(
      `      leadership given up ${(sinceRenewal / 1000).toFixed(2)} s after the last successful renewal (renew deadline ${RENEW_DEADLINE_MS / 1000} s; ${(sinceCut / 1000).toFixed(2)} s after the namespace deletion began)\n`,
    );
    expect(lostReason).to.match(/renew deadline/);
    expect(leader.isLeader).to.equal(false);
    expect(lastRenewal, 'renewed until the Lease went').to.be.greaterThan(cutAt - RETRY_PERIOD_MS);
    // At the deadline, counted from the last renewal, and no later than one more attempt.
    expect(sinceRenewal).to.be.at.least(RENEW_DEADLINE_MS);
    expect(sinceRenewal).to.be.lessThan(RENEW_DEADLINE_MS + 2 * RETRY_PERIOD_MS + 500);
  });
});
