// The operator against the real kube-apiserver (and kube-controller-manager): the real
// `softtenant operator` process runs with a short resync while the tests change SoftTenants,
// Namespaces and NetworkPolicies through kubectl and watch it converge.
import { expect } from 'chai';
import { policyName } from '../../operator/tenant/naming.js';
import { eventually } from '../support/eventually.js';
import {
  applyObjects,
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
  tenantEvents,
  tryKubectl,
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
  MANAGED_BY,
  namespaceLabels,
  softTenant,
  statusOf,
  TENANT_LABEL,
} from '../support/softtenant-fixtures.js';

const isolation = (t: string): string => policyName(t, { kind: 'isolation' });
const rule = (t: string, r: string): string => policyName(t, { kind: 'rule', rule: r });

/** The seed's example policy, as a tenant rule. */
const seedRule = {
  name: 'db',
  spec: {
    podSelector: { matchLabels: { role: 'db' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        from: [
          { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
          { namespaceSelector: { matchLabels: { project: 'myproject' } } },
          { podSelector: { matchLabels: { role: 'frontend' } } },
        ],
        ports: [{ protocol: 'TCP', port: 6379 }],
      },
    ],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
  },
};

describe('operator: reconciliation against a real API server', function () {
  this.timeout(120_000);
  const operator = new OperatorProcess(['--resync-period', '2s']);
  const tenants: string[] = [];
  const namespaces: string[] = [];
  let crdCreated = false;
  let started = false;

  /** Creates namespaces now and remembers them for cleanup. */
  const makeNamespaces = (...specs: [string, Record<string, string>?][]): void => {
    for (const [name, labels] of specs) {
      namespaces.push(name);
      createNamespace(name, labels ?? {});
    }
  };
  const makeTenant = (tenant: Obj): void => {
    tenants.push(tenant.metadata.name);
    applyTenant(tenant);
  };

  before(function () {
    crdCreated = installSoftTenantCrd();
    operator.start();
    started = true;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`--- operator log tail ---\n${operator.tail()}\n`);
  });

  after(async function () {
    this.timeout(180_000);
    try {
      deleteObjects('softtenants', tenants);
      if (operator.isRunning) {
        await eventually(() => expect(tenants.filter((t) => getTenant(t) !== undefined)).to.deep.equal([]), {
          timeoutMs: 60_000,
        }).catch(() => undefined);
      }
    } finally {
      const code = await operator.stop();
      releaseFinalizers(FINALIZER);
      deleteObjects('softtenants', tenants);
      deleteObjects('namespaces', namespaces);
      if (crdCreated) kubectlDelete(['crd', SOFTTENANT_CRD]);
      if (started) expect(code, 'operator exit code after SIGTERM').to.equal(0);
    }
  });

  it('installs the SoftTenant CRD (served, cluster-scoped, short name stn, status subresource)', function () {
    const crd = getObject('crd', SOFTTENANT_CRD);
    const spec = crd?.spec as {
      scope: string;
      names: { shortNames?: string[] };
      versions: { name: string; served: boolean; subresources?: { status?: unknown } }[];
    };
    expect(spec.scope).to.equal('Cluster');
    expect(spec.names.shortNames).to.include('stn');
    const v1alpha1 = spec.versions.find((v) => v.name === 'v1alpha1');
    expect(v1alpha1?.served).to.equal(true);
    expect(v1alpha1?.subresources?.status).to.not.equal(undefined);
    expect(tryKubectl(['get', 'stn']).code).to.equal(0);
  });

  it('labels the namespaces, generates owned policies without copied labels, and reports Ready', async function () {
    makeNamespaces(['opt-c-named'], ['opt-c-picked', { team: 'opt-c' }], ['opt-c-other']);
    makeTenant(
      softTenant(
        'opt-create',
        {
          namespaces: { names: ['opt-c-named'], selector: { matchLabels: { team: 'opt-c' } } },
          isolation: { egress: 'Tenant' },
          rules: [seedRule],
        },
        { labels: { 'argocd.argoproj.io/instance': 'opt-app', 'opt.test/keep': 'tenant-only' } },
      ),
    );

    const status = await eventually(() => expectReady('opt-create'));
    expect(status.namespaces).to.deep.equal(['opt-c-named', 'opt-c-picked']);
    expect(status.namespaceCount).to.equal(2);
    expect(status.policies).to.equal(4);
    expect(condition(status, 'Ready')?.message).to.equal('4 NetworkPolicies applied in 2 namespaces');

    const tenant = getTenant('opt-create') as Obj;
    expect(tenant.metadata.finalizers).to.include(FINALIZER);
    // The operator writes status and the finalizer only: never the tenant's labels or annotations.
    expect(tenant.metadata.labels).to.deep.equal({
      'argocd.argoproj.io/instance': 'opt-app',
      'opt.test/keep': 'tenant-only',
    });

    expect(namespaceLabels('opt-c-named')?.[TENANT_LABEL]).to.equal('opt-create');
    expect(namespaceLabels('opt-c-picked')?.[TENANT_LABEL]).to.equal('opt-create');
    expect(namespaceLabels('opt-c-other')?.[TENANT_LABEL]).to.equal(undefined);

    const policies = generatedPolicies('opt-create');
    expect([...policies.keys()].sort()).to.deep.equal(
      ['opt-c-named', 'opt-c-picked']
        .flatMap((ns) => [isolation('opt-create'), rule('opt-create', 'db')].map((p) => `${ns}/${p}`))
        .sort(),
    );
    for (const [key, policy] of policies) {
      expect(policy.metadata.labels?.[MANAGED_BY], key).to.equal('softtenant');
      expect(policy.metadata.labels?.[TENANT_LABEL], key).to.equal('opt-create');
      expect(policy.metadata.labels, key).to.not.have.any.keys(
        'argocd.argoproj.io/instance',
        'opt.test/keep',
      );
      expect(policy.metadata.ownerReferences, key).to.deep.equal([
        {
          apiVersion: 'tenancy.softtenant.io/v1alpha1',
          kind: 'SoftTenant',
          name: 'opt-create',
          uid: tenant.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    // The seed's policy comes out spec for spec.
    expect(policies.get(`opt-c-named/${rule('opt-create', 'db')}`)?.spec).to.deep.equal(seedRule.spec);

    const events = tenantEvents('opt-create', tenant.metadata.uid);
    expect(events.map((e) => e.reason)).to.include.members(['NamespaceJoined', 'PolicyCreated']);
    for (const e of events) expect(e.reportingController).to.equal('softtenant-operator');
    // One Event for both namespaces of the reconcile that labelled them, not one per namespace.
    const joined = events.filter((e) => e.reason === 'NamespaceJoined');
    expect(joined, 'NamespaceJoined Events').to.have.length(1);
    expect(joined[0].note)
      .to.include('namespace opt-c-named joined the tenant')
      .and.include('namespace opt-c-picked joined the tenant');

    // The printer columns show what status says.
    const row = tryKubectl(['get', 'softtenant', 'opt-create', '--no-headers']).stdout.trim().split(/\s+/);
    expect(row[0]).to.equal('opt-create');
    expect(row[1]).to.equal('2');
    expect(row[2]).to.equal('4');
    expect(row).to.include('True');
  });

  it('follows spec updates: adds, changes and prunes policies in place', async function () {
    makeNamespaces(['opt-u-a']);
    const base = {
      namespaces: { names: ['opt-u-a'] },
      rules: [
        {
          name: 'web',
          spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 80 }] }] },
        },
        { name: 'old', spec: { podSelector: { matchLabels: { app: 'old' } }, ingress: [{}] } },
      ],
    };
    makeTenant(softTenant('opt-update', base));
    await eventually(() => expectReady('opt-update'));
    const before = generatedPolicies('opt-update');
    expect([...before.keys()].sort()).to.deep.equal(
      [isolation('opt-update'), rule('opt-update', 'old'), rule('opt-update', 'web')]
        .map((p) => `opt-u-a/${p}`)
        .sort(),
    );
    const webUid = before.get(`opt-u-a/${rule('opt-update', 'web')}`)?.metadata.uid;
    const isolationUid = before.get(`opt-u-a/${isolation('opt-update')}`)?.metadata.uid;

    applyTenant(
      softTenant('opt-update', {
        namespaces: { names: ['opt-u-a'] },
        isolation: { ingress: 'Open', egress: 'Tenant' },
        rules: [
          {
            name: 'web',
            spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 8080 }] }] },
          },
          {
            name: 'new',
            spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.1.0.0/16' } }] }] },
          },
        ],
      }),
    );
    await eventually(() => {
      const status = expectReady('opt-update');
      expect(status.observedGeneration).to.equal(2);
      const after = generatedPolicies('opt-update');
      expect([...after.keys()].sort()).to.deep.equal(
        [isolation('opt-update'), rule('opt-update', 'new'), rule('opt-update', 'web')]
          .map((p) => `opt-u-a/${p}`)
          .sort(),
      );
      const web = after.get(`opt-u-a/${rule('opt-update', 'web')}`) as Obj;
      expect(web.metadata.uid, 'changed in place, not recreated').to.equal(webUid);
      expect(web.spec).to.deep.include({ ingress: [{ ports: [{ port: 8080, protocol: 'TCP' }] }] });
      // Ingress open, egress isolated: the same isolation policy, now for egress only.
      const isolationPolicy = after.get(`opt-u-a/${isolation('opt-update')}`) as Obj;
      expect(isolationPolicy.metadata.uid, 'changed in place, not recreated').to.equal(isolationUid);
      expect(isolationPolicy.spec).to.deep.include({ policyTypes: ['Egress'] });
      expect(isolationPolicy.spec).to.not.have.property('ingress');
      expect(status.policies).to.equal(3);
    });
    const reasons = tenantEvents('opt-update', getTenant('opt-update')?.metadata.uid).map((e) => e.reason);
    expect(reasons).to.include.members(['PolicyCreated', 'PolicyUpdated', 'PolicyDeleted']);
  });

  it('follows namespaces: created later, relabelled, deleted', async function () {
    makeTenant(
      softTenant('opt-members', {
        namespaces: { names: ['opt-m-late'], selector: { matchLabels: { team: 'opt-m' } } },
      }),
    );
    await eventually(() => {
      const status = expectReady('opt-members');
      expect(status.namespaces).to.deep.equal([]);
      expect(condition(status, 'Ready')?.message).to.match(/no namespace matches/);
    });

    makeNamespaces(['opt-m-late'], ['opt-m-sel', { team: 'opt-m', other: 'kept' }]);
    await eventually(() => {
      expect(expectReady('opt-members').namespaces).to.deep.equal(['opt-m-late', 'opt-m-sel']);
      expect(namespaceLabels('opt-m-late')?.[TENANT_LABEL]).to.equal('opt-members');
      expect(namespaceLabels('opt-m-sel')?.[TENANT_LABEL]).to.equal('opt-members');
      expect([...generatedPolicies('opt-members').keys()].sort()).to.deep.equal(
        [`opt-m-late/${isolation('opt-members')}`, `opt-m-sel/${isolation('opt-members')}`].sort(),
      );
    });

    // The namespace no longer matches the selector: it leaves, with its label and policies.
    label('namespace', 'opt-m-sel', ['team-']);
    await eventually(() => {
      expect(expectReady('opt-members').namespaces).to.deep.equal(['opt-m-late']);
      expect(namespaceLabels('opt-m-sel')).to.deep.equal({
        'kubernetes.io/metadata.name': 'opt-m-sel',
        other: 'kept',
      });
      expect([...generatedPolicies('opt-members').keys()]).to.deep.equal([
        `opt-m-late/${isolation('opt-members')}`,
      ]);
    });

    // A deleted namespace leaves the tenant (the controller manager really removes it).
    deleteObjects('namespace', ['opt-m-late']);
    await eventually(
      () => {
        const status = expectReady('opt-members');
        expect(status.namespaces).to.deep.equal([]);
        expect(status.policies).to.equal(0);
        expect(getObject('namespace', 'opt-m-late')).to.equal(undefined);
      },
      { timeoutMs: 90_000 },
    );
  });

  it('reverts hand edits and deletions of generated policies and leaves users\u2019 own policies alone', async function () {
    makeNamespaces(['opt-h-a']);
    applyObjects([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'user-allow-web', namespace: 'opt-h-a', labels: { owner: 'user' } },
        spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 443 }] }] },
      },
    ]);
    const userBefore = getObject('networkpolicy', 'user-allow-web', 'opt-h-a') as Obj;
    makeTenant(
      softTenant('opt-hand', {
        namespaces: { names: ['opt-h-a'] },
        isolation: { egress: 'Tenant' },
        rules: [{ name: 'web', spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] } }],
      }),
    );
    await eventually(() => expectReady('opt-hand'));
    const generated = generatedPolicies('opt-hand');
    const isolationKey = `opt-h-a/${isolation('opt-hand')}`;
    const ruleKey = `opt-h-a/${rule('opt-hand', 'web')}`;
    const wantIsolation = generated.get(isolationKey) as Obj;
    const ruleUid = generated.get(ruleKey)?.metadata.uid;

    // Hand edit: another spec, and the tenant label removed (so a label query no longer finds it).
    jsonPatch(
      'networkpolicy',
      isolation('opt-hand'),
      [
        { op: 'replace', path: '/spec/podSelector', value: { matchLabels: { hacked: 'yes' } } },
        { op: 'remove', path: `/metadata/labels/${TENANT_LABEL.replace('/', '~1')}` },
      ],
      'opt-h-a',
    );
    deleteObjects('networkpolicy', [rule('opt-hand', 'web')], 'opt-h-a');

    await eventually(() => {
      const now = generatedPolicies('opt-hand');
      expect(now.get(isolationKey)?.spec).to.deep.equal(wantIsolation.spec);
      expect(now.get(isolationKey)?.metadata.labels).to.deep.equal(wantIsolation.metadata.labels);
      expect(now.get(ruleKey), 'deleted policy recreated').to.not.equal(undefined);
      expect(now.get(ruleKey)?.metadata.uid).to.not.equal(ruleUid);
    });
    const reasons = tenantEvents('opt-hand', getTenant('opt-hand')?.metadata.uid).map((e) => e.reason);
    expect(reasons).to.include('PolicyUpdated');

    // Let a few resync periods pass: the user's policy was never written.
    await new Promise((r) => setTimeout(r, 5_000));
    const userAfter = getObject('networkpolicy', 'user-allow-web', 'opt-h-a') as Obj;
    expect(userAfter.metadata.resourceVersion).to.equal(userBefore.metadata.resourceVersion);
    expect(userAfter.metadata.labels).to.deep.equal({ owner: 'user' });
    expect(
      operator.writesSince().filter((w) => w.namespace === 'opt-h-a' && w.name === 'user-allow-web'),
      'writes to the user policy',
    ).to.deep.equal([]);
  });

  it('keeps a contested namespace with the first tenant and reports Stalled on the second', async function () {
    makeNamespaces(['opt-k-shared'], ['opt-k-one'], ['opt-k-two']);
    makeTenant(softTenant('opt-first', { namespaces: { names: ['opt-k-shared', 'opt-k-one'] } }));
    await eventually(() => expectReady('opt-first'));
    makeTenant(softTenant('opt-second', { namespaces: { names: ['opt-k-shared', 'opt-k-two'] } }));

    const stalled = await eventually(() => {
      const status = statusOf('opt-second');
      expect(condition(status, 'Stalled')).to.include({ status: 'True', reason: 'NamespaceConflict' });
      expect(condition(status, 'Ready')).to.include({ status: 'False', reason: 'NamespaceConflict' });
      expect(status.namespaces).to.deep.equal(['opt-k-two']);
      return status;
    });
    const message = condition(stalled, 'Stalled')?.message ?? '';
    expect(message).to.include('"opt-k-shared"').and.to.include('"opt-first"');
    expect(message).to.match(/remove it from this tenant's spec.namespaces/);

    expect(expectReady('opt-first').namespaces).to.deep.equal(['opt-k-one', 'opt-k-shared']);
    expect(namespaceLabels('opt-k-shared')?.[TENANT_LABEL]).to.equal('opt-first');
    expect([...generatedPolicies('opt-second').keys()]).to.deep.equal([
      `opt-k-two/${isolation('opt-second')}`,
    ]);
    const warning = tenantEvents('opt-second', getTenant('opt-second')?.metadata.uid).find(
      (e) => e.reason === 'NamespaceConflict',
    );
    expect(warning?.type).to.equal('Warning');
    expect(warning?.note).to.include('opt-k-shared');

    // The first tenant goes: the namespace passes to the second, which becomes Ready.
    deleteObjects('softtenant', ['opt-first']);
    await eventually(() => {
      expect(expectReady('opt-second').namespaces).to.deep.equal(['opt-k-shared', 'opt-k-two']);
      expect(namespaceLabels('opt-k-shared')?.[TENANT_LABEL]).to.equal('opt-second');
      expect(getTenant('opt-first')).to.equal(undefined);
    });
  });

  it('reports a spec that cannot take effect as Stalled/InvalidSpec naming the field, and clears it when fixed', async function () {
    makeNamespaces(['opt-i-a']);
    const spec = {
      namespaces: { names: ['opt-i-a'] },
      isolation: { ingress: 'Open' },
      allowFrom: [{ ipBlock: { cidr: '10.9.0.0/16' } }],
    };
    makeTenant(softTenant('opt-invalid', spec));
    const status = await eventually(() => {
      const s = statusOf('opt-invalid');
      expect(condition(s, 'Stalled')).to.include({ status: 'True', reason: 'InvalidSpec' });
      expect(condition(s, 'Ready')).to.include({ status: 'False', reason: 'InvalidSpec' });
      return s;
    });
    expect(condition(status, 'Stalled')?.message).to.include('spec.allowFrom: allowFrom has no effect');
    const uid = getTenant('opt-invalid')?.metadata.uid;
    expect(
      tenantEvents('opt-invalid', uid).some((e) => e.type === 'Warning' && e.reason === 'InvalidSpec'),
    ).to.equal(true);

    applyTenant(softTenant('opt-invalid', { ...spec, isolation: { ingress: 'Tenant' } }));
    await eventually(() => expect(expectReady('opt-invalid').policies).to.equal(1));
  });

  it('reports failed writes as Ready=False/ApplyFailed with Warning Events, retries with backoff, and recovers', async function () {
    makeNamespaces(['opt-f-taken'], ['opt-f-denied']);
    // A real refusal by the API server: an admission policy that denies NetworkPolicies in one namespace.
    applyObjects([
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: 'opt-deny-netpol' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: ['networking.k8s.io'],
                apiVersions: ['v1'],
                operations: ['CREATE', 'UPDATE'],
                resources: ['networkpolicies'],
              },
            ],
          },
          validations: [
            {
              expression: "object.metadata.namespace != 'opt-f-denied'",
              message: 'opt test refuses NetworkPolicies here',
            },
          ],
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: 'opt-deny-netpol' },
        spec: { policyName: 'opt-deny-netpol', validationActions: ['Deny'] },
      },
    ]);
    try {
      const probe = JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'probe', namespace: 'opt-f-denied' },
        spec: { podSelector: {} },
      });
      await eventually(() =>
        expect(tryKubectl(['create', '--dry-run=server', '-f', '-'], probe).code).to.not.equal(0),
      );
      // A name collision: the user owns a policy with the name the tenant would generate.
      applyObjects([
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: isolation('opt-fail'), namespace: 'opt-f-taken' },
          spec: { podSelector: { matchLabels: { mine: 'yes' } } },
        },
      ]);
      const userPolicy = getObject('networkpolicy', isolation('opt-fail'), 'opt-f-taken') as Obj;
      makeTenant(softTenant('opt-fail', { namespaces: { names: ['opt-f-taken', 'opt-f-denied'] } }));

      const status = await eventually(() => {
        const s = statusOf('opt-fail');
        expect(condition(s, 'Ready')).to.include({ status: 'False', reason: 'ApplyFailed' });
        expect(condition(s, 'Reconciling')).to.include({ status: 'True', reason: 'ApplyFailed' });
        return s;
      });
      const message = condition(status, 'Ready')?.message ?? '';
      expect(message)
        .to.include(`NetworkPolicy opt-f-denied/${isolation('opt-fail')}`)
        .and.include('opt test refuses NetworkPolicies here');
      expect(message).to.include(
        `NetworkPolicy opt-f-taken/${isolation('opt-fail')} already exists and was not generated for this tenant`,
      );
      const uid = getTenant('opt-fail')?.metadata.uid;
      await eventually(() => {
        const warnings = tenantEvents('opt-fail', uid).filter(
          (e) => e.type === 'Warning' && e.reason === 'ApplyFailed',
        );
        expect(warnings.map((e) => e.note).join('\n'))
          .to.include('opt test refuses')
          .and.include('already exists');
      });
      // Retried with growing delays, each failure logged with the tenant's name.
      await eventually(() => {
        const failures = operator.lines.filter(
          (l) => l.message === 'reconcile failed' && l.tenant === 'opt-fail',
        );
        expect(failures.length).to.be.at.least(3);
        expect(Math.max(...failures.map((l) => Number(l.failures)))).to.be.at.least(3);
      });
      const mine = getObject('networkpolicy', isolation('opt-fail'), 'opt-f-taken') as Obj;
      expect(mine.metadata.resourceVersion, 'the user policy was not taken over').to.equal(
        userPolicy.metadata.resourceVersion,
      );

      // Remove both obstacles: the tenant recovers on its own.
      kubectlDelete(['validatingadmissionpolicybinding', 'opt-deny-netpol']);
      kubectlDelete(['validatingadmissionpolicy', 'opt-deny-netpol']);
      deleteObjects('networkpolicy', [isolation('opt-fail')], 'opt-f-taken');
      await eventually(() => {
        expect(expectReady('opt-fail').policies).to.equal(2);
        expect([...generatedPolicies('opt-fail').keys()].sort()).to.deep.equal([
          `opt-f-denied/${isolation('opt-fail')}`,
          `opt-f-taken/${isolation('opt-fail')}`,
        ]);
      });
    } finally {
      kubectlDelete(['validatingadmissionpolicybinding', 'opt-deny-netpol']);
      kubectlDelete(['validatingadmissionpolicy', 'opt-deny-netpol']);
    }
  });

  it('on SoftTenant deletion removes its policies and labels and keeps the namespaces', async function () {
    makeNamespaces(['opt-d-a', { team: 'opt-d', keep: 'me' }], ['opt-d-b', { team: 'opt-d' }]);
    applyObjects([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'user-deny-all', namespace: 'opt-d-a' },
        spec: { podSelector: {} },
      },
    ]);
    makeTenant(
      softTenant('opt-delete', {
        namespaces: { selector: { matchLabels: { team: 'opt-d' } } },
        rules: [seedRule],
      }),
    );
    await eventually(() => {
      expectReady('opt-delete');
      expect(generatedPolicies('opt-delete').size).to.equal(4);
    });

    deleteObjects('softtenant', ['opt-delete']);
    await eventually(() => {
      expect(getTenant('opt-delete'), 'tenant gone (finalizer released)').to.equal(undefined);
      expect(generatedPolicies('opt-delete').size).to.equal(0);
      expect(namespaceLabels('opt-d-a')).to.deep.equal({
        'kubernetes.io/metadata.name': 'opt-d-a',
        team: 'opt-d',
        keep: 'me',
      });
      expect(namespaceLabels('opt-d-b')).to.deep.equal({
        'kubernetes.io/metadata.name': 'opt-d-b',
        team: 'opt-d',
      });
    });
    for (const ns of ['opt-d-a', 'opt-d-b']) {
      const obj = getObject('namespace', ns) as Obj;
      expect(obj.metadata.deletionTimestamp, `${ns} is not being deleted`).to.equal(undefined);
    }
    expect(getObject('networkpolicy', 'user-deny-all', 'opt-d-a'), 'user policy kept').to.not.equal(
      undefined,
    );
    expect(listObjects('networkpolicies', { namespace: 'opt-d-b' })).to.deep.equal([]);
  });

  it('logged no unexpected errors while doing all of the above', function () {
    const errors = operator.lines.filter((l) => l.level === 'error');
    expect(errors, JSON.stringify(errors)).to.deep.equal([]);
    expect(operator.rawLines, 'non-JSON output (a crash?)').to.deep.equal([]);
  });
});
