// Strict SoftTenants against the real kube-apiserver (and kube-controller-manager): the real
// `softtenant operator` process writes, updates and prunes a strict tenant's Admin-tier
// ClusterNetworkPolicies (the CRD vendored from network-policy-api v0.3.0, installed here),
// reverts hand edits, writes nothing at rest, deletes them on the finalizer path; the SoftTenant
// CRD's CEL refuses strict specs that cannot be expressed, with the offline validator's words;
// and without the ClusterNetworkPolicy CRD a strict tenant keeps its NetworkPolicies and says why
// it is not strict (condition and Event).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { Msg } from '../../operator/tenant/messages.js';
import { validateSoftTenant } from '../../operator/tenant/validate.js';
import { kubectl } from '../support/controlplane.js';
import { CLUSTER_NETWORK_POLICY_CRD, installClusterNetworkPolicyCrd, waitForWatch } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import {
  createNamespace,
  deleteObjects,
  getObject,
  installSoftTenantCrd,
  jsonPatch,
  kubectlDelete,
  listObjects,
  releaseFinalizers,
  SOFTTENANT_CRD,
  tenantEvents,
  tryKubectl,
  type Obj,
} from '../support/kube-json.js';
import { OperatorProcess } from '../support/operator-process.js';
import {
  applyTenant,
  condition,
  FINALIZER,
  generatedPolicies,
  getTenant,
  MANAGED_BY,
  softTenant,
  statusOf,
  TENANT_LABEL,
} from '../support/softtenant-fixtures.js';

const CNP = 'clusternetworkpolicies.policy.networking.k8s.io';

function cnpsOf(tenant: string): Map<string, Obj> {
  const items = listObjects(CNP, { selector: `${MANAGED_BY}=softtenant,${TENANT_LABEL}=${tenant}` });
  return new Map(items.map((p) => [p.metadata.name, p]));
}

type Spec = {
  tier: string;
  priority: number;
  ingress?: { name?: string; action: string }[];
  egress?: { name?: string; action: string }[];
};
const specOf = (o: Obj | undefined): Spec => o?.spec as Spec;

function strictSpec(ns: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    namespaces: { names: ns },
    isolation: { ingress: 'Tenant', egress: 'Tenant', strict: true },
    allowFrom: [{ tenants: ['str-monitoring'], ports: [{ port: 9090 }] }],
    ...extra,
  };
}

/** Server-side dry run of a SoftTenant: the API server's refusal, or '' when it would store it. */
function dryRunTenant(tenant: Obj): string {
  const r = spawnSync('kubectl', ['create', '--dry-run=server', '-f', '-'], {
    input: JSON.stringify(tenant),
    encoding: 'utf8',
    env: process.env,
  });
  return r.status === 0 ? '' : r.stderr;
}

describe('strict tenants: without the ClusterNetworkPolicy CRD', function () {
  this.timeout(120_000);
  const operator = new OperatorProcess(['--resync-period', '2s']);
  let softTenantCrdCreated = false;
  let cnpCrdWasThere = false;
  let cnpCrdInstalledHere = false;

  before(async function () {
    softTenantCrdCreated = installSoftTenantCrd();
    cnpCrdWasThere = tryKubectl(['get', 'crd', CLUSTER_NETWORK_POLICY_CRD]).code === 0;
    if (cnpCrdWasThere) {
      kubectlDelete(['crd', CLUSTER_NETWORK_POLICY_CRD]);
      await eventually(() => expect(tryKubectl(['get', CNP]).code).to.not.equal(0), { timeoutMs: 30_000 });
    }
    createNamespace('str-nocrd');
    operator.start();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`--- operator log ---\n${operator.tail()}\n`);
  });

  after(async function () {
    this.timeout(120_000);
    deleteObjects('softtenants', ['str-nocrd']);
    await eventually(() => expect(getTenant('str-nocrd')).to.equal(undefined), { timeoutMs: 30_000 }).catch(
      () => undefined,
    );
    const code = await operator.stop();
    releaseFinalizers(FINALIZER);
    deleteObjects('softtenants', ['str-nocrd']);
    deleteObjects('namespaces', ['str-nocrd']);
    tryKubectl(['delete', CNP, 'str-nocrd-platform', '--ignore-not-found']);
    if (cnpCrdWasThere) installClusterNetworkPolicyCrd();
    else if (cnpCrdInstalledHere) kubectlDelete(['crd', CLUSTER_NETWORK_POLICY_CRD]);
    if (softTenantCrdCreated) kubectlDelete(['crd', SOFTTENANT_CRD]);
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('keeps the NetworkPolicies and reports Strict=False, Ready=False, Stalled with an Event', async function () {
    applyTenant(softTenant('str-nocrd', strictSpec(['str-nocrd'])));
    await eventually(
      () => {
        const status = statusOf('str-nocrd');
        expect(condition(status, 'Strict')).to.include({
          status: 'False',
          reason: 'ClusterNetworkPolicyUnavailable',
        });
        expect(condition(status, 'Strict')?.message).to.contain(CLUSTER_NETWORK_POLICY_CRD);
        expect(condition(status, 'Ready')).to.include({
          status: 'False',
          reason: 'ClusterNetworkPolicyUnavailable',
        });
        expect(condition(status, 'Stalled')).to.include({
          status: 'True',
          reason: 'ClusterNetworkPolicyUnavailable',
        });
        expect([...generatedPolicies('str-nocrd').keys()]).to.deep.equal([
          'str-nocrd/stn-str-nocrd-isolation',
        ]);
        const events = tenantEvents('str-nocrd');
        expect(
          events.some((e) => e.type === 'Warning' && e.reason === 'ClusterNetworkPolicyUnavailable'),
        ).to.equal(true);
      },
      { timeoutMs: 30_000 },
    );
  });

  it('the CRD installed later: no watch fails meanwhile; the operator notices it, writes the strict policies, and a platform policy gets its status', async function () {
    // Absent all along so far: discovery only, no watch against a missing resource.
    expect(operator.countSince('watch failed; resuming')).to.equal(0);
    cnpCrdInstalledHere = installClusterNetworkPolicyCrd();
    await waitForWatch('/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies');
    kubectl(
      ['apply', '--server-side', '--field-manager=platform-team', '-f', '-'],
      JSON.stringify({
        apiVersion: 'policy.networking.k8s.io/v1beta1',
        kind: 'ClusterNetworkPolicy',
        metadata: { name: 'str-nocrd-platform' },
        spec: {
          tier: 'Baseline',
          priority: 10,
          subject: { namespaces: { matchLabels: { 'str-nocrd-none': 'x' } } },
          ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }],
        },
      }),
    );
    await eventually(
      () => {
        expect(condition(statusOf('str-nocrd'), 'Strict')).to.include({ status: 'True', reason: 'Applied' });
        expect([...cnpsOf('str-nocrd').keys()].sort()).to.deep.equal([
          'softtenant-str-nocrd-allow',
          'softtenant-str-nocrd-deny',
        ]);
        const platform = getObject(CNP, 'str-nocrd-platform') as
          | (Obj & { status?: { conditions?: { type: string }[] } })
          | undefined;
        expect(platform?.status?.conditions?.find((c) => c.type === 'Programmed')).to.include({
          status: 'True',
          reason: 'NoSelectedPods',
          observedGeneration: platform?.metadata.generation,
        });
      },
      { timeoutMs: 60_000 },
    );
  });
});

describe('strict tenants: ClusterNetworkPolicies on a real API server', function () {
  this.timeout(120_000);
  const operator = new OperatorProcess(['--resync-period', '2s']);
  const tenants = ['str-a', 'str-b'];
  const namespaces = ['str-a-1', 'str-a-2', 'str-b-1'];
  let crds: { softTenant: boolean; cnp: boolean } = { softTenant: false, cnp: false };

  before(async function () {
    crds = { softTenant: installSoftTenantCrd(), cnp: installClusterNetworkPolicyCrd() };
    await waitForWatch('/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies');
    for (const ns of namespaces) createNamespace(ns);
    operator.start();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`--- operator log ---\n${operator.tail()}\n`);
  });

  after(async function () {
    this.timeout(180_000);
    deleteObjects('softtenants', tenants);
    await eventually(() => expect(tenants.filter((t) => getTenant(t) !== undefined)).to.deep.equal([]), {
      timeoutMs: 60_000,
    }).catch(() => undefined);
    const code = await operator.stop();
    releaseFinalizers(FINALIZER);
    deleteObjects('softtenants', tenants);
    deleteObjects('namespaces', namespaces);
    for (const t of tenants) for (const name of cnpsOf(t).keys()) kubectlDelete([CNP, name]);
    if (crds.cnp) kubectlDelete(['crd', CLUSTER_NETWORK_POLICY_CRD]);
    if (crds.softTenant) kubectlDelete(['crd', SOFTTENANT_CRD]);
    expect(code, 'operator exit code after SIGTERM').to.equal(0);
  });

  it('writes softtenant-<tenant>-allow (Admin 700) and -deny (Admin 750), owned and labelled; status and STRICT column say so', async function () {
    applyTenant(softTenant('str-a', strictSpec(['str-a-1', 'str-a-2'])));
    applyTenant(softTenant('str-b', { namespaces: { names: ['str-b-1'] } }));
    await eventually(
      () => {
        const cnps = cnpsOf('str-a');
        expect([...cnps.keys()].sort()).to.deep.equal(['softtenant-str-a-allow', 'softtenant-str-a-deny']);
        const status = statusOf('str-a');
        expect(condition(status, 'Strict')).to.include({ status: 'True', reason: 'Applied' });
        expect(condition(status, 'Ready')).to.include({ status: 'True' });
        expect((status as { clusterNetworkPolicies?: number }).clusterNetworkPolicies).to.equal(2);
        // No pod runs in the tenant's namespaces (no kubelet here): nothing for a node to program.
        for (const c of cnps.values())
          expect(
            (c.status as { conditions?: { type: string }[] } | undefined)?.conditions?.find(
              (x) => x.type === 'Programmed',
            ),
            c.metadata.name,
          ).to.include({ status: 'True', reason: 'NoSelectedPods' });
      },
      { timeoutMs: 30_000 },
    );
    const tenant = getTenant('str-a');
    const cnps = cnpsOf('str-a');
    const allow = cnps.get('softtenant-str-a-allow');
    const deny = cnps.get('softtenant-str-a-deny');
    expect([
      specOf(allow).tier,
      specOf(allow).priority,
      specOf(deny).tier,
      specOf(deny).priority,
    ]).to.deep.equal(['Admin', 700, 'Admin', 750]);
    expect(specOf(allow).ingress?.map((r) => [r.name, r.action])).to.deep.equal([
      ['tenant', 'Pass'],
      ['spec.allowFrom[0]', 'Accept'],
    ]);
    expect(specOf(allow).egress?.map((r) => [r.name, r.action])).to.deep.equal([
      ['tenant', 'Pass'],
      ['dns', 'Accept'],
    ]);
    expect(specOf(deny).ingress?.map((r) => r.action)).to.deep.equal(['Deny']);
    for (const c of [allow, deny]) {
      expect(c?.metadata.ownerReferences).to.deep.equal([
        {
          apiVersion: 'tenancy.softtenant.io/v1alpha1',
          kind: 'SoftTenant',
          name: 'str-a',
          uid: tenant?.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      const full = JSON.parse(
        tryKubectl(['get', CNP, c?.metadata.name ?? '', '-o', 'json', '--show-managed-fields']).stdout,
      ) as { metadata: { managedFields?: { manager: string; operation: string; subresource?: string }[] } };
      const managers = full.metadata.managedFields;
      // The object, and its status (the Programmed condition), both by server-side apply.
      expect(managers?.map((m) => [m.manager, m.operation, m.subresource ?? ''])).to.have.deep.members([
        ['softtenant-operator', 'Apply', ''],
        ['softtenant-operator', 'Apply', 'status'],
      ]);
    }
    expect(cnpsOf('str-b').size, 'a tenant that is not strict').to.equal(0);
    expect(condition(statusOf('str-b'), 'Strict')).to.equal(undefined);
    const table = tryKubectl(['get', 'stn', 'str-a', 'str-b']).stdout.split('\n');
    expect(table[0]).to.match(/STRICT/);
    expect(table.find((l) => l.startsWith('str-a '))).to.match(/\btrue\b/);
    expect(table.find((l) => l.startsWith('str-b '))).to.match(/\bfalse\b/);
  });

  it('writes nothing at rest', async function () {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const mark = operator.mark();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(operator.writesSince(mark)).to.deep.equal([]);
    expect(operator.countSince('resync', mark)).to.be.greaterThan(0);
  });

  it('updates them when the spec changes', async function () {
    applyTenant(
      softTenant(
        'str-a',
        strictSpec(['str-a-1', 'str-a-2'], {
          allowTo: [{ ipBlock: { cidr: '192.0.2.0/24' }, ports: [{ port: 443 }] }],
        }),
      ),
    );
    await eventually(
      () => {
        const allow = cnpsOf('str-a').get('softtenant-str-a-allow');
        expect(specOf(allow).egress?.map((r) => r.name)).to.deep.equal(['tenant', 'dns', 'spec.allowTo[0]']);
      },
      { timeoutMs: 30_000 },
    );
  });

  it('reverts a hand edit of the spec, a removed label, and a deletion', async function () {
    jsonPatch(CNP, 'softtenant-str-a-deny', [{ op: 'replace', path: '/spec/priority', value: 999 }]);
    await eventually(
      () => expect(specOf(cnpsOf('str-a').get('softtenant-str-a-deny')).priority).to.equal(750),
      {
        timeoutMs: 30_000,
      },
    );
    jsonPatch(CNP, 'softtenant-str-a-deny', [
      { op: 'remove', path: `/metadata/labels/${MANAGED_BY.replace('/', '~1')}` },
    ]);
    await eventually(
      () =>
        expect(getObject(CNP, 'softtenant-str-a-deny')?.metadata.labels?.[MANAGED_BY]).to.equal('softtenant'),
      { timeoutMs: 30_000 },
    );
    const before = getObject(CNP, 'softtenant-str-a-allow')?.metadata.uid;
    kubectlDelete([CNP, 'softtenant-str-a-allow']);
    await eventually(
      () => {
        const uid = getObject(CNP, 'softtenant-str-a-allow')?.metadata.uid;
        expect(uid).to.not.equal(undefined);
        expect(uid).to.not.equal(before);
      },
      { timeoutMs: 30_000 },
    );
  });

  it('prunes them when the tenant stops being strict, and drops the Strict condition', async function () {
    applyTenant(
      softTenant(
        'str-a',
        strictSpec(['str-a-1', 'str-a-2'], { isolation: { ingress: 'Tenant', egress: 'Tenant' } }),
      ),
    );
    await eventually(
      () => {
        expect(cnpsOf('str-a').size).to.equal(0);
        const status = statusOf('str-a');
        expect(condition(status, 'Strict')).to.equal(undefined);
        expect((status as { clusterNetworkPolicies?: number }).clusterNetworkPolicies).to.equal(0);
        expect(condition(status, 'Ready')).to.include({ status: 'True' });
      },
      { timeoutMs: 30_000 },
    );
    expect(generatedPolicies('str-a').size, 'NetworkPolicies stay').to.equal(2);
  });

  it('deletes them on the finalizer path when the tenant is deleted', async function () {
    applyTenant(softTenant('str-a', strictSpec(['str-a-1', 'str-a-2'])));
    await eventually(() => expect(cnpsOf('str-a').size).to.equal(2), { timeoutMs: 30_000 });
    const mark = operator.mark();
    kubectlDelete(['softtenant', 'str-a']);
    await eventually(
      () => {
        expect(getTenant('str-a')).to.equal(undefined);
        expect(cnpsOf('str-a').size).to.equal(0);
      },
      { timeoutMs: 30_000 },
    );
    // The operator deleted them before it let the tenant go (not the garbage collector after).
    await eventually(
      () => {
        const deleted = operator.lines
          .slice(mark)
          .filter(
            (l) => l.message === 'cluster network policy deleted' && l.why === 'the tenant is being deleted',
          )
          .map((l) => l.clusterNetworkPolicy);
        expect(deleted.sort()).to.deep.equal(['softtenant-str-a-allow', 'softtenant-str-a-deny']);
      },
      { timeoutMs: 10_000 },
    );
  });

  describe("the SoftTenant CRD's CEL refuses strict specs that cannot be ClusterNetworkPolicies", function () {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ tenants: [`t${i}`] }));
    const cases: [string, Record<string, unknown>, string | undefined][] = [
      ['both directions Open', { isolation: { ingress: 'Open', strict: true } }, Msg.strictNeedsIsolation],
      ['25 allowFrom entries', { isolation: { strict: true }, allowFrom: many(25) }, Msg.strictAllowFromSize],
      [
        '24 allowTo entries',
        { isolation: { egress: 'Tenant', strict: true }, allowTo: many(24) },
        Msg.strictAllowToSize,
      ],
      [
        'a named port',
        { isolation: { strict: true }, allowFrom: [{ ports: [{ port: 'metrics' }] }] },
        Msg.strictAllowFromPorts,
      ],
      [
        '26 ports in one allowTo entry',
        {
          isolation: { egress: 'Tenant', strict: true },
          allowTo: [{ ports: Array.from({ length: 26 }, (_, i) => ({ port: 2000 + i })) }],
        },
        Msg.strictAllowToPorts,
      ],
      [
        'an allowTo ipBlock with except',
        {
          isolation: { egress: 'Tenant', strict: true },
          allowTo: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
        },
        Msg.strictAllowToExcept,
      ],
      ['24 allowFrom entries (the limit)', { isolation: { strict: true }, allowFrom: many(24) }, undefined],
      ['the same named port without strict', { allowFrom: [{ ports: [{ port: 'metrics' }] }] }, undefined],
    ];
    for (const [what, spec, message] of cases) {
      it(`${what}: ${message ? 'refused' : 'accepted'}, as the offline validator says`, function () {
        const tenant = softTenant('str-cel', spec);
        const server = dryRunTenant(tenant);
        const offline = validateSoftTenant(tenant).map((e) => e.message);
        if (message) {
          expect(server).to.contain(message);
          expect(offline.join('\n')).to.contain(message);
        } else {
          expect(server).to.equal('');
          expect(offline).to.deep.equal([]);
        }
      });
    }
  });
});
