// The SoftTenant CRD against the real kube-apiserver (started by the root hooks): it installs,
// accepts the samples, rejects the bad-input corpus with the expected messages, applies the
// defaults the offline code assumes, explains itself and prints its columns.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NetworkPolicy, NetworkPolicySpec } from '../../operator/api/networkpolicy.js';
import { API_VERSION, KIND, type SoftTenant } from '../../operator/api/softtenant.js';
import { CRD_FILE, CRD_NAME } from '../../operator/tenant/crd.js';
import { withDefaults } from '../../operator/tenant/defaults.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import { validateSoftTenant } from '../../operator/tenant/validate.js';
import { parseManifests } from '../../operator/util/manifests.js';
import { kubectl, repoRoot } from '../support/controlplane.js';
import { badInputs, goodInputs } from './crd-corpus.js';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function kubectlRun(args: string[], input?: string): Run {
  const r = spawnSync('kubectl', args, { input, encoding: 'utf8', env: process.env, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The field paths the API server names in a refusal: `unknown field "x"` of strict decoding, or
 * the `* path: detail` lines (one line when there is a single error) of an Invalid response;
 * <nil> (an error about the whole object) is ''.
 */
function serverFields(stderr: string): string[] {
  const unknown = [...stderr.matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1] ?? '');
  if (unknown.length > 0) return unknown;
  const lines = [...stderr.matchAll(/^\* ([^:]+): /gm)].map((m) => m[1] ?? '');
  const single = /is invalid: ([^:\n]+): /.exec(stderr);
  const fields = lines.length > 0 ? lines : single ? [single[1] ?? ''] : [];
  return fields.map((f) => (f === '<nil>' ? '' : f)).sort();
}

/** Server-side dry-run create: runs every admission and validation step, stores nothing. */
function dryRunCreate(obj: unknown): Run {
  return kubectlRun(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(obj));
}

const stn = (name: string, spec: unknown): Record<string, unknown> => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { name },
  spec,
});

function samples(): SoftTenant[] {
  return ['team-a.yaml', 'team-b.yaml', 'seed-example.yaml'].flatMap(
    (f) =>
      parseManifests(
        readFileSync(resolve(repoRoot, 'config/samples', f), 'utf8'),
        f,
      ) as unknown as SoftTenant[],
  );
}

const TEST_TENANT = 'crdtest-columns';
const TEST_NAMESPACE = 'crdtest-expand';

describe('SoftTenant CRD on the real API server', function () {
  this.timeout(120_000);

  before(() => {
    kubectl(['apply', '-f', resolve(repoRoot, CRD_FILE)]);
    kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
  });

  after(() => {
    // Only what this file created; the CRD stays (other suites install the same file).
    kubectlRun(['delete', KIND.toLowerCase(), TEST_TENANT, '--ignore-not-found', '--wait=false']);
    kubectlRun(['delete', 'namespace', TEST_NAMESPACE, '--ignore-not-found', '--wait=false']);
  });

  it('installs and is Established, cluster-scoped, with short name stn and a status subresource', () => {
    const crd = JSON.parse(kubectl(['get', 'crd', CRD_NAME, '-o', 'json'])) as {
      spec: {
        scope: string;
        names: { shortNames: string[]; singular: string };
        versions: { name: string; subresources: object }[];
      };
      status: { conditions: { type: string; status: string }[] };
    };
    const cond = (t: string): string | undefined => crd.status.conditions.find((c) => c.type === t)?.status;
    expect(cond('Established')).to.equal('True');
    expect(cond('NamesAccepted')).to.equal('True');
    expect(crd.status.conditions.find((c) => c.type === 'NonStructuralSchema')).to.equal(undefined);
    expect(crd.spec.scope).to.equal('Cluster');
    expect(crd.spec.names.shortNames).to.deep.equal(['stn']);
    expect(crd.spec.versions.map((v) => v.name)).to.deep.equal(['v1alpha1']);
    expect(crd.spec.versions[0]?.subresources).to.deep.equal({ status: {} });
  });

  it('accepts the samples (server-side dry run of config/samples)', () => {
    const out = kubectl(['apply', '--dry-run=server', '-k', resolve(repoRoot, 'config/samples')]);
    for (const name of ['team-a', 'team-b', 'seed-example'])
      expect(out).to.include(`softtenant.tenancy.softtenant.io/${name}`);
  });

  it('fills in exactly the defaults that the offline expansion assumes', () => {
    const sparse = stn('crdtest-defaults', {
      namespaces: { names: ['a'] },
      allowFrom: [{ tenants: ['b'], ports: [{ port: 80 }] }],
      rules: [{ name: 'r', spec: { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] } }],
    });
    const run = dryRunCreate(sparse);
    expect(run.status, run.stderr).to.equal(0);
    const stored = JSON.parse(run.stdout) as SoftTenant;
    expect(stored.spec).to.deep.equal(withDefaults(sparse as unknown as SoftTenant).spec);
    expect(stored.spec.isolation).to.deep.equal({
      ingress: 'Tenant',
      egress: 'Open',
      allowDNS: true,
      strict: false,
    });
  });

  describe('rejects the bad-input corpus with the expected field and message', () => {
    it('has at least 20 cases', () => expect(badInputs.length).to.be.at.least(20));
    for (const bad of badInputs) {
      it(bad.name, () => {
        const run = dryRunCreate(stn(bad.tenantName ?? 'crdtest-bad', bad.spec));
        expect(run.status, `accepted: ${bad.name}`).to.not.equal(0);
        expect(run.stderr).to.include(bad.field);
        expect(run.stderr).to.include(bad.message);
        // The offline validator agrees: the same field and message, and no error more or less.
        const offline = validateSoftTenant(stn(bad.tenantName ?? 'crdtest-bad', bad.spec));
        expect(
          offline.some((e) => e.field === bad.field && e.message.includes(bad.message)),
          JSON.stringify(offline),
        ).to.equal(true);
        expect(offline.map((e) => e.field).sort(), run.stderr).to.deep.equal(serverFields(run.stderr));
        for (const e of offline)
          expect(run.stderr, 'offline message not in the server error').to.include(e.message);
      });
    }
  });

  describe('accepts the valid edge cases, with the same defaults as offline', () => {
    for (const good of goodInputs) {
      it(good.name, () => {
        const obj = stn(good.tenantName ?? 'crdtest-good', good.spec);
        const run = dryRunCreate(obj);
        expect(run.status, run.stderr).to.equal(0);
        expect(validateSoftTenant(obj)).to.deep.equal([]);
        const stored = JSON.parse(run.stdout) as SoftTenant;
        expect(stored.spec).to.deep.equal(withDefaults(obj as unknown as SoftTenant).spec);
      });
    }
  });

  it('validates a large object within the CEL runtime budget (16 rules x 16 rules x 16 ipBlocks x 16 excepts)', () => {
    const except = Array.from({ length: 16 }, (_, i) => `10.${i}.0.0/16`);
    const ingress = Array.from({ length: 16 }, () => ({
      from: Array.from({ length: 16 }, () => ({ ipBlock: { cidr: '10.0.0.0/8', except } })),
    }));
    const rules = Array.from({ length: 16 }, (_, i) => ({
      name: `r${i}`,
      spec: { podSelector: {}, ingress },
    }));
    const run = dryRunCreate(stn('crdtest-large', { rules }));
    expect(run.status, run.stderr.slice(0, 500)).to.equal(0);
  });

  it('agrees with the offline validator on which CIDRs are valid', () => {
    const cidrs = [
      '10.0.0.0/8',
      '0.0.0.0/0',
      '::/0',
      'fd00::/8',
      '2001:db8::/32',
      '::102:304/128',
      '::1.2.3.4/128',
      '10.0.0.0/08',
      '010.0.0.0/8',
      '::ffff:1.2.3.4/128',
      'fe80::%eth0/64',
      '2001:0db8::/32',
      '192.168.1.1/32',
      '1:2:3:4:5:6:7::/128',
    ];
    const disagreements: string[] = [];
    for (const cidr of cidrs) {
      const obj = stn('crdtest-cidr', { allowFrom: [{ ipBlock: { cidr } }] });
      const server = dryRunCreate(obj).status === 0;
      const offline = validateSoftTenant(obj).length === 0;
      if (server !== offline)
        disagreements.push(
          `${cidr}: server ${server ? 'accepts' : 'rejects'}, offline ${offline ? 'accepts' : 'rejects'}`,
        );
    }
    expect(disagreements).to.deep.equal([]);
  });

  it('kubectl explain softtenant.spec.allowFrom teaches the fields', () => {
    const out = kubectl(['explain', 'softtenant.spec.allowFrom']);
    expect(out).to.include('Extra sources');
    for (const field of ['ipBlock', 'namespaceSelector', 'podSelector', 'tenants', 'ports'])
      expect(out).to.match(new RegExp(`^\\s+${field}\\s`, 'm'));
    expect(kubectl(['explain', 'stn.spec.allowFrom.tenants'])).to.include('tenancy.softtenant.io/tenant');
    expect(kubectl(['explain', 'stn.spec.rules.spec.ingress.ports.endPort'])).to.include('port..endPort');
  });

  it('kubectl get softtenants prints NAMESPACES POLICIES STRICT ENFORCED READY AGE', () => {
    kubectl(['create', '-f', '-'], JSON.stringify(stn(TEST_TENANT, { namespaces: { names: ['a', 'b'] } })));
    const status = {
      status: {
        observedGeneration: 1,
        namespaces: ['a', 'b'],
        namespaceCount: 2,
        policies: 3,
        enforcement: { nodes: 2, enforced: 2, summary: '2/2' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Applied',
            message: 'all applied',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    };
    kubectl([
      'patch',
      KIND.toLowerCase(),
      TEST_TENANT,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]);
    const [header, row] = kubectl(['get', 'softtenants', TEST_TENANT]).trim().split('\n');
    expect(header?.split(/\s+/)).to.deep.equal([
      'NAME',
      'NAMESPACES',
      'POLICIES',
      'STRICT',
      'ENFORCED',
      'READY',
      'AGE',
    ]);
    expect(row?.split(/\s+/).slice(0, 6)).to.deep.equal([TEST_TENANT, '2', '3', 'false', '2/2', 'True']);
    // The short name works too.
    expect(kubectl(['get', 'stn', TEST_TENANT, '-o', 'name'])).to.equal(
      `softtenant.tenancy.softtenant.io/${TEST_TENANT}\n`,
    );
  });

  it('the NetworkPolicies expanded from the samples are valid for the API server', () => {
    kubectl(['create', 'namespace', TEST_NAMESPACE]);
    const ns = (name: string): { metadata: { name: string; labels: Record<string, string> } } => ({
      metadata: {
        name,
        labels: { 'kubernetes.io/metadata.name': name, ...(name.startsWith('team-b') ? { team: 'b' } : {}) },
      },
    });
    const result = expandTenants({
      tenants: samples(),
      namespaces: ['default', 'team-a-web', 'team-a-db', 'team-b-api', 'team-b-jobs'].map(ns),
    });
    const policies = result.tenants.flatMap((t) => t.policies);
    expect(policies.length).to.equal(6);
    for (const p of policies) {
      // Same content, placed in the test's namespace (the sample namespaces may not exist here).
      const run = dryRunCreate({ ...p, metadata: { ...p.metadata, namespace: TEST_NAMESPACE } });
      expect(run.status, `${p.metadata.namespace}/${p.metadata.name}: ${run.stderr}`).to.equal(0);
    }
  });

  it('the seed rule, created for real, reads back with exactly the seed spec', () => {
    kubectlRun(['create', 'namespace', TEST_NAMESPACE]);
    const seed = parseManifests(
      readFileSync(resolve(repoRoot, 'test/golden/expand/input/seed-networkpolicy.yaml'), 'utf8'),
    )[0] as unknown as {
      spec: NetworkPolicySpec;
    };
    const sample = samples().find((t) => t.metadata.name === 'seed-example') as SoftTenant;
    const [generated] =
      expandTenants({ tenants: [sample], namespaces: [{ metadata: { name: 'default' } }] }).tenants[0]
        ?.policies ?? [];
    expect(generated).to.not.equal(undefined);
    const p = generated;
    kubectl(
      ['create', '-f', '-'],
      JSON.stringify({ ...p, metadata: { ...p.metadata, namespace: TEST_NAMESPACE } }),
    );
    const stored = JSON.parse(
      kubectl(['get', 'networkpolicy', '-n', TEST_NAMESPACE, p.metadata.name, '-o', 'json']),
    ) as NetworkPolicy;
    expect(stored.spec).to.deep.equal(seed.spec);
    expect(stored.metadata.labels).to.deep.equal({
      'app.kubernetes.io/managed-by': 'softtenant',
      'tenancy.softtenant.io/tenant': 'seed-example',
    });
  });
});
