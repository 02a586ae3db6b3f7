// Operator restarts against the real API server: a restarted operator that finds everything in
// place writes nothing (measured: writes per minute at rest), changes made while no operator
// ran are repaired when it starts (the watch-gap case), and SIGTERM ends it with exit code 0.
import { expect } from 'chai';
import { policyName } from '../../operator/tenant/naming.js';
import { eventually } from '../support/eventually.js';
import {
  createNamespace,
  deleteObjects,
  getObject,
  installSoftTenantCrd,
  jsonPatch,
  kubectlDelete,
  label,
  listObjects,
  releaseFinalizers,
  SOFTTENANT_CRD,
  type Obj,
} from '../support/kube-json.js';
import { OperatorProcess } from '../support/operator-process.js';
import {
  applyTenant,
  condition,
  expectReady,
  FINALIZER,
  generatedPolicies,
  getTenant,
  namespaceLabels,
  softTenant,
  statusOf,
  TENANT_LABEL,
} from '../support/softtenant-fixtures.js';

const RESYNC_MS = 1_000;

/** resourceVersion of every object the operator writes for these tenants and namespaces. */
function resourceVersions(tenants: string[], namespaces: string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const t of tenants) out.set(`softtenant/${t}`, getTenant(t)?.metadata.resourceVersion);
  for (const ns of namespaces) {
    out.set(`namespace/${ns}`, getObject('namespace', ns)?.metadata.resourceVersion);
    for (const p of listObjects('networkpolicies', { namespace: ns })) {
      out.set(`networkpolicy/${ns}/${p.metadata.name}`, p.metadata.resourceVersion);
    }
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('operator: restarts', function () {
  this.timeout(180_000);
  const tenants = ['opr-main', 'opr-rival'];
  const namespaces = ['opr-a', 'opr-b', 'opr-c', 'opr-late'];
  const operators: OperatorProcess[] = [];
  let crdCreated = false;

  const startOperator = (): OperatorProcess => {
    const op = new OperatorProcess(['--resync-period', `${RESYNC_MS}ms`], { LOG_LEVEL: 'debug' });
    operators.push(op);
    op.start();
    return op;
  };

  before(async function () {
    crdCreated = installSoftTenantCrd();
    createNamespace('opr-a', { team: 'opr' });
    createNamespace('opr-b', { team: 'opr', unrelated: 'x' });
    createNamespace('opr-c');
    applyTenant(
      softTenant('opr-main', {
        namespaces: { names: ['opr-c'], selector: { matchLabels: { team: 'opr' } } },
        isolation: { egress: 'Tenant' },
        rules: [
          {
            name: 'web',
            spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 80 }] }] },
          },
        ],
      }),
    );
    startOperator();
    await eventually(() => expectReady('opr-main'));
    // A stalled tenant must be as quiet at rest as a ready one.
    applyTenant(softTenant('opr-rival', { namespaces: { names: ['opr-c'] } }));
    await eventually(() => expect(condition(statusOf('opr-rival'), 'Stalled')?.status).to.equal('True'));
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      for (const op of operators) process.stderr.write(`--- operator log tail ---\n${op.tail()}\n`);
    }
  });

  after(async function () {
    // Deleting the tenants needs a running operator (the finalizer).
    if (!operators.some((op) => op.isRunning)) startOperator();
    try {
      deleteObjects('softtenants', tenants);
      await eventually(() => expect(tenants.filter((t) => getTenant(t) !== undefined)).to.deep.equal([]), {
        timeoutMs: 60_000,
      }).catch(() => undefined);
    } finally {
      for (const op of operators) await op.stop();
      releaseFinalizers(FINALIZER);
      deleteObjects('softtenants', tenants);
      deleteObjects('namespaces', namespaces);
      if (crdCreated) kubectlDelete(['crd', SOFTTENANT_CRD]);
    }
  });

  it('stops on SIGTERM with exit code 0, and a restarted operator writes nothing when nothing changed', async function () {
    const first = operators[0];
    // Quiet first: no write for a few resync periods.
    await eventually(
      async () => {
        const mark = first.mark();
        await sleep(3 * RESYNC_MS);
        expect(first.writesSince(mark)).to.deep.equal([]);
      },
      { timeoutMs: 30_000, intervalMs: 0 },
    );
    const before = resourceVersions(tenants, namespaces.slice(0, 3));
    expect(await first.stop(), 'exit code after SIGTERM').to.equal(0);
    expect(first.lines.some((l) => l.message === 'stopped')).to.equal(true);

    const second = startOperator();
    // Wait for the new operator to reconcile both tenants at least three times (start-up, then resyncs).
    await eventually(
      () => {
        for (const t of tenants) {
          const reconciles = second.lines.filter((l) => l.message === 'reconciled' && l.tenant === t).length;
          expect(reconciles, `reconciles of ${t}`).to.be.at.least(3);
        }
      },
      { timeoutMs: 60_000 },
    );
    expect(second.writesSince(), 'writes after restart').to.deep.equal([]);
    expect(resourceVersions(tenants, namespaces.slice(0, 3))).to.deep.equal(before);

    // Writes per minute at rest, over a measured stretch of resyncs.
    const mark = second.mark();
    const started = Date.now();
    await sleep(20_000);
    const minutes = (Date.now() - started) / 60_000;
    const writes = second.writesSince(mark).length;
    const reconciles = second.lines.slice(mark).filter((l) => l.message === 'reconciled').length;
    process.stdout.write(
      `      at rest: ${(writes / minutes).toFixed(1)} writes/min over ${((Date.now() - started) / 1000).toFixed(0)} s (${reconciles} reconciles, resync ${RESYNC_MS} ms)\n`,
    );
    expect(writes).to.equal(0);
    expect(reconciles, 'the operator kept reconciling').to.be.at.least(20);
    expect(resourceVersions(tenants, namespaces.slice(0, 3))).to.deep.equal(before);
    expect(
      second.lines.filter((l) => l.level === 'error'),
      'errors logged',
    ).to.deep.equal([]);
  });

  it('repairs at start-up what changed while no operator was running', async function () {
    const running = operators.find((op) => op.isRunning);
    if (running) expect(await running.stop()).to.equal(0);

    const web = policyName('opr-main', { kind: 'rule', rule: 'web' });
    const isolation = policyName('opr-main', { kind: 'isolation' });
    const wanted = generatedPolicies('opr-main');
    deleteObjects('networkpolicy', [isolation], 'opr-a');
    jsonPatch('networkpolicy', web, [{ op: 'replace', path: '/spec/podSelector', value: {} }], 'opr-b');
    label('namespace', 'opr-b', [`${TENANT_LABEL}-`]);
    createNamespace('opr-late', { team: 'opr' });

    startOperator();
    await eventually(() => {
      const status = expectReady('opr-main');
      expect(status.namespaces).to.deep.equal(['opr-a', 'opr-b', 'opr-c', 'opr-late']);
      expect(namespaceLabels('opr-b')?.[TENANT_LABEL]).to.equal('opr-main');
      expect(namespaceLabels('opr-late')?.[TENANT_LABEL]).to.equal('opr-main');
      const now = generatedPolicies('opr-main');
      expect(now.get(`opr-a/${isolation}`), 'deleted policy recreated').to.not.equal(undefined);
      expect(now.get(`opr-b/${web}`)?.spec).to.deep.equal((wanted.get(`opr-b/${web}`) as Obj).spec);
      expect(now.get(`opr-late/${isolation}`)).to.not.equal(undefined);
    });
  });
});
