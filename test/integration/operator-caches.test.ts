// The operator's caches against the real API server: an event wakes only the tenants it
// concerns (counted through the metrics endpoint), an edit right after the operator's own write
// converges, and an API server restart during which a generated policy is deleted is healed
// once the operator reconnects, without restarting the operator.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { policyName } from '../../operator/tenant/naming.js';
import { kubectl } from '../support/controlplane.js';
import { sample, scrape } from '../support/endpoints.js';
import { eventually } from '../support/eventually.js';
import {
  createNamespace,
  deleteObjects,
  getObject,
  installSoftTenantCrd,
  jsonPatch,
  kubectlDelete,
  label,
  releaseFinalizers,
  SOFTTENANT_CRD,
  tryKubectl,
} from '../support/kube-json.js';
import { OperatorProcess } from '../support/operator-process.js';
import {
  applyTenant,
  expectReady,
  FINALIZER,
  generatedPolicies,
  getTenant,
  softTenant,
} from '../support/softtenant-fixtures.js';

const TENANTS = ['ocw-1', 'ocw-2', 'ocw-3', 'ocw-4', 'ocw-5'];
const NAMESPACES = [...TENANTS.map((t) => `${t}-ns`), 'ocw-free', 'ocw-quick-ns', 'ocw-gap-ns'];
const ALL_TENANTS = [...TENANTS, 'ocw-quick', 'ocw-gap'];
const ENDPOINT_FLAGS = ['--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The API server of the test control plane: its state directory is the kubeconfig's. */
function apiServerPidFile(): string {
  const kubeconfig = process.env.KUBECONFIG ?? '';
  return join(dirname(kubeconfig), 'kube-apiserver.pid');
}

/** A process that has exited may linger as a zombie until its (adoptive) parent reaps it. */
function isRunning(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * Kills the API server (a crash, not a graceful stop) and starts it again with the same command
 * line; `whileDown` runs in between. Resolves once it is Ready. A server-side connection still
 * closing (FIN_WAIT2, up to tcp_fin_timeout) can keep the port for a while: the start is retried.
 */
async function restartApiServer(whileDown: () => void): Promise<void> {
  const pidFile = apiServerPidFile();
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((a) => a !== '');
  process.kill(pid, 'SIGKILL');
  await eventually(() => expect(isRunning(pid), 'old kube-apiserver exited').to.equal(false), {
    timeoutMs: 60_000,
  });
  whileDown();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const log = openSync(join(dirname(pidFile), 'kube-apiserver.log'), 'a');
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    closeSync(log);
    writeFileSync(pidFile, `${child.pid}\n`);
    const ready = await eventually(
      () => {
        if (child.exitCode !== null) return false;
        expect(tryKubectl(['get', '--raw', '/readyz']).code).to.equal(0);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error('kube-apiserver did not start again');
    await sleep(2_000);
  }
}

describe('operator: watch caches on a real API server', function () {
  this.timeout(240_000);
  const operator = new OperatorProcess(['--resync-period=10m', ...ENDPOINT_FLAGS]);
  let crdCreated = false;

  const reconciles = async (): Promise<number> =>
    sample(await scrape(operator), 'softtenant_reconcile_total{result="success"}') +
    sample(await scrape(operator), 'softtenant_reconcile_total{result="error"}');

  /** Waits until no reconcile happened for `quietMs`; returns the count. */
  async function settled(quietMs = 3_000): Promise<number> {
    let last = await reconciles();
    for (;;) {
      await sleep(quietMs);
      const now = await reconciles();
      if (now === last) return now;
      last = now;
    }
  }

  before(async function () {
    crdCreated = installSoftTenantCrd();
    for (const t of TENANTS) createNamespace(`${t}-ns`, { 'ocw-team': t });
    createNamespace('ocw-free');
    for (const t of TENANTS) {
      applyTenant(softTenant(t, { namespaces: { selector: { matchLabels: { 'ocw-team': t } } } }));
    }
    operator.start();
    for (const t of TENANTS) await eventually(() => expectReady(t), { timeoutMs: 60_000 });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`--- operator log tail ---\n${operator.tail()}\n`);
  });

  after(async function () {
    try {
      if (operator.isRunning) {
        deleteObjects('softtenants', ALL_TENANTS);
        await eventually(() => expect(ALL_TENANTS.filter((t) => getTenant(t))).to.deep.equal([]), {
          timeoutMs: 60_000,
        }).catch(() => undefined);
      }
    } finally {
      await operator.stop();
      releaseFinalizers(FINALIZER);
      deleteObjects('softtenants', ALL_TENANTS);
      deleteObjects('namespaces', NAMESPACES);
      if (crdCreated) kubectlDelete(['crd', SOFTTENANT_CRD]);
    }
  });

  it('a namespace relabel wakes only the tenants it concerns', async function () {
    const before = await settled();
    // Claimed by no tenant, before or after: no reconcile at all.
    label('namespace', 'ocw-free', ['ocw-extra=1']);
    label('namespace', 'ocw-free', ['ocw-team=nobody']);
    const afterUnclaimed = await settled();
    expect(afterUnclaimed - before, 'reconciles for a namespace no tenant claims').to.equal(0);

    // Still held by ocw-1 after the change: ocw-1 alone is reconciled, and writes nothing.
    label('namespace', 'ocw-1-ns', ['ocw-extra=1']);
    await eventually(async () => expect(await reconciles()).to.be.greaterThan(afterUnclaimed));
    const afterHeld = await settled();
    expect(afterHeld - afterUnclaimed, 'reconciles for a relabel that concerns one tenant').to.equal(1);

    // Moved from ocw-2's selector to ocw-3's: both are reconciled (their own writes then wake
    // them again, so the count says "at least both", not who).
    label('namespace', 'ocw-2-ns', ['ocw-team=ocw-3', '--overwrite']);
    await eventually(() =>
      expect(
        generatedPolicies('ocw-3').has(`ocw-2-ns/${policyName('ocw-3', { kind: 'isolation' })}`),
      ).to.equal(true),
    );
    const afterMove = await settled();
    expect(afterMove - afterHeld, 'reconciles for a move between two tenants').to.be.at.least(2);
    label('namespace', 'ocw-2-ns', ['ocw-team=ocw-2', '--overwrite']);
    await eventually(() => expectReady('ocw-2'));
  });

  it('an edit made right after the operator\u2019s own write converges', async function () {
    createNamespace('ocw-quick-ns');
    applyTenant(softTenant('ocw-quick', { namespaces: { names: ['ocw-quick-ns'] } }));
    const isolation = policyName('ocw-quick', { kind: 'isolation' });
    // As soon as the operator has created the policy, edit it and the tenant's spec.
    await eventually(
      () => expect(getObject('networkpolicy', isolation, 'ocw-quick-ns')).to.not.equal(undefined),
      {
        intervalMs: 50,
      },
    );
    jsonPatch(
      'networkpolicy',
      isolation,
      [{ op: 'replace', path: '/spec/podSelector', value: { matchLabels: { hand: 'edit' } } }],
      'ocw-quick-ns',
    );
    applyTenant(
      softTenant('ocw-quick', { namespaces: { names: ['ocw-quick-ns'] }, isolation: { egress: 'Tenant' } }),
    );
    await eventually(() => {
      expectReady('ocw-quick');
      const policies = generatedPolicies('ocw-quick');
      expect([...policies.keys()]).to.deep.equal([`ocw-quick-ns/${isolation}`]);
      // The hand edit undone, the spec's change (egress isolated too) applied.
      expect(policies.get(`ocw-quick-ns/${isolation}`)?.spec).to.deep.include({
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
    });
  });

  it('a generated policy deleted while the API server restarts is back after the operator reconnects', async function () {
    createNamespace('ocw-gap-ns');
    applyTenant(softTenant('ocw-gap', { namespaces: { names: ['ocw-gap-ns'] } }));
    await eventually(() => expectReady('ocw-gap'));
    const ingress = policyName('ocw-gap', { kind: 'isolation' });
    const uid = getObject('networkpolicy', ingress, 'ocw-gap-ns')?.metadata.uid;
    // Frozen while the API server is down, the operator sees nothing of the restart or the
    // deletion until it is resumed: the deletion happens in its watch gap, on an API server it
    // has never talked to.
    try {
      await restartApiServer(() => {
        // Let the operator see its connections close (so none is left half-open on the server's
        // port), then freeze it before its watches retry.
        spawnSync('sleep', ['0.2']);
        operator.signal('SIGSTOP');
      });
      kubectl(['delete', 'networkpolicy', ingress, '-n', 'ocw-gap-ns', '--wait=false']);
    } finally {
      operator.signal('SIGCONT');
    }
    await eventually(
      () => {
        const policy = getObject('networkpolicy', ingress, 'ocw-gap-ns');
        expect(policy, 'the policy is back').to.not.equal(undefined);
        expect(policy?.metadata.uid, 'a new object').to.not.equal(uid);
      },
      { timeoutMs: 90_000 },
    );
    expect(operator.isRunning, 'the operator was not restarted').to.equal(true);
    const starts = operator.lines.filter((l) => l.message === 'operator started').length;
    expect(starts).to.equal(1);
  });
});
