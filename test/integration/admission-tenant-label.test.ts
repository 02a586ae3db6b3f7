// The tenant label on Namespaces can be trusted: with config/default installed on the real API
// server, an ordinary user who may edit namespaces cannot add, change or remove
// tenancy.softtenant.io/tenant (not through the status subresource either) nor create a
// namespace carrying it, while the operator's ServiceAccount can, and unrelated edits pass.
import { expect } from 'chai';
import { kubectl } from '../support/controlplane.js';
import {
  OPERATOR_SA,
  SYSTEM_NAMESPACE,
  TENANT_LABEL,
  TokenKubeconfigs,
  install,
  tryKubectl,
  type Installation,
  type RunResult,
} from './install-fixture.js';

const USER = 'st-namespace-editor';
const EDITOR_ROLE = 'st-test-namespace-editor';
const MEMBER_NS = 'st-adm-member';
const PLAIN_NS = 'st-adm-plain';
const CREATED_NS = ['st-adm-joiner', 'st-adm-unlabelled', 'st-adm-doomed'];

function labelsOf(ns: string): Record<string, string> {
  const obj = JSON.parse(kubectl(['get', 'namespace', ns, '-o', 'json'])) as {
    metadata: { labels?: Record<string, string> };
  };
  return obj.metadata.labels ?? {};
}

function expectRefused(res: RunResult, action: string): void {
  expect(res.code, `${action} should be refused; stdout: ${res.stdout}`).to.not.equal(0);
  expect(res.stderr).to.include("ValidatingAdmissionPolicy 'softtenant-tenant-label'");
  expect(res.stderr).to.include(
    'the label tenancy.softtenant.io/tenant is set only by the softtenant operator',
  );
  expect(res.stderr).to.include(`may not ${action}`);
  expect(res.stderr).to.include('edit spec.namespaces of its SoftTenant');
}

describe('admission: only the operator sets the tenant label on namespaces', function () {
  this.timeout(180_000);
  let installation: Installation | undefined;
  let tokens: TokenKubeconfigs | undefined;
  let operator = '';
  const asUser = [`--as=${USER}`];

  before(async () => {
    installation = await install();
    tokens = new TokenKubeconfigs();
    // A real token of the operator's ServiceAccount, as the operator pod would use.
    operator = tokens.forToken(
      kubectl(['create', 'token', 'softtenant-operator', '-n', SYSTEM_NAMESPACE]).trim(),
    );
    // An ordinary user who may create and edit namespaces (the people the policy is about).
    kubectl([
      'create',
      'clusterrole',
      EDITOR_ROLE,
      '--verb=get,list,create,update,patch',
      '--resource=namespaces,namespaces/status',
    ]);
    kubectl(['create', 'clusterrolebinding', EDITOR_ROLE, `--clusterrole=${EDITOR_ROLE}`, `--user=${USER}`]);
    kubectl(['create', 'namespace', MEMBER_NS]);
    kubectl(['create', 'namespace', PLAIN_NS]);
    kubectl(['--kubeconfig', operator, 'label', 'namespace', MEMBER_NS, `${TENANT_LABEL}=acme`]);
  });

  after(() => {
    tryKubectl([
      'delete',
      'namespace',
      '--ignore-not-found',
      '--wait=false',
      MEMBER_NS,
      PLAIN_NS,
      ...CREATED_NS,
    ]);
    tryKubectl(['delete', 'clusterrolebinding,clusterrole', EDITOR_ROLE, '--ignore-not-found']);
    tokens?.remove();
    installation?.uninstall();
  });

  it('has expressions the API server type-checks without warnings', () => {
    const vap = JSON.parse(
      kubectl(['get', 'validatingadmissionpolicy', 'softtenant-tenant-label', '-o', 'json']),
    ) as {
      status?: { typeChecking?: { expressionWarnings?: unknown[] } };
    };
    expect(vap.status?.typeChecking?.expressionWarnings ?? []).to.deep.equal([]);
  });

  it('refuses a user adding the label to a namespace', () => {
    expectRefused(tryKubectl(['label', 'namespace', PLAIN_NS, `${TENANT_LABEL}=acme`, ...asUser]), 'add it');
    expect(labelsOf(PLAIN_NS)).to.not.have.property(TENANT_LABEL);
  });

  it("refuses a user changing a member namespace's tenant", () => {
    expectRefused(
      tryKubectl(['label', 'namespace', MEMBER_NS, `${TENANT_LABEL}=evil`, '--overwrite', ...asUser]),
      'change it',
    );
    expect(labelsOf(MEMBER_NS)[TENANT_LABEL]).to.equal('acme');
  });

  it('refuses a user removing the label, also with a JSON patch or a full update', () => {
    expectRefused(tryKubectl(['label', 'namespace', MEMBER_NS, `${TENANT_LABEL}-`, ...asUser]), 'remove it');
    const jsonPatch = JSON.stringify([
      { op: 'remove', path: '/metadata/labels/tenancy.softtenant.io~1tenant' },
    ]);
    expectRefused(
      tryKubectl(['patch', 'namespace', MEMBER_NS, '--type=json', '-p', jsonPatch, ...asUser]),
      'remove it',
    );
    const full = JSON.parse(kubectl(['get', 'namespace', MEMBER_NS, '-o', 'json'])) as {
      metadata: { labels: Record<string, string> };
    };
    delete full.metadata.labels[TENANT_LABEL];
    expectRefused(tryKubectl(['replace', '-f', '-', ...asUser], JSON.stringify(full)), 'remove it');
    expect(labelsOf(MEMBER_NS)[TENANT_LABEL]).to.equal('acme');
  });

  it('refuses the change through the status subresource, which also writes labels', () => {
    const patch = JSON.stringify({ metadata: { labels: { [TENANT_LABEL]: 'evil' } } });
    expectRefused(
      tryKubectl([
        'patch',
        'namespace',
        MEMBER_NS,
        '--subresource=status',
        '--type=merge',
        '-p',
        patch,
        ...asUser,
      ]),
      'change it',
    );
    expect(labelsOf(MEMBER_NS)[TENANT_LABEL]).to.equal('acme');
  });

  it('refuses creating a namespace that already carries the label', () => {
    const ns = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: st-adm-joiner\n  labels:\n    ${TENANT_LABEL}: acme\n`;
    expectRefused(tryKubectl(['create', '-f', '-', ...asUser], ns), 'create a namespace carrying it');
    expect(tryKubectl(['get', 'namespace', 'st-adm-joiner']).code).to.not.equal(0);
  });

  it('refuses cluster administrators too: membership changes go through the SoftTenant', () => {
    expectRefused(tryKubectl(['label', 'namespace', PLAIN_NS, `${TENANT_LABEL}=acme`]), 'add it');
  });

  it('lets the user make unrelated changes, including to member namespaces', () => {
    kubectl(['label', 'namespace', MEMBER_NS, 'team=payments', ...asUser]);
    kubectl(['annotate', 'namespace', MEMBER_NS, 'owner=alice', ...asUser]);
    const ns =
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: st-adm-unlabelled\n  labels:\n    team: payments\n';
    kubectl(['create', '-f', '-', ...asUser], ns);
    // Server-side apply of a manifest that does not mention the label keeps it.
    kubectl(
      ['apply', '--server-side', '--field-manager=gitops', '-f', '-', ...asUser],
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${MEMBER_NS}\n  labels:\n    env: prod\n`,
    );
    expect(labelsOf(MEMBER_NS)).to.include({ [TENANT_LABEL]: 'acme', team: 'payments', env: 'prod' });
  });

  it("lets the operator's ServiceAccount add, change and remove the label", () => {
    kubectl(['--kubeconfig', operator, 'label', 'namespace', PLAIN_NS, `${TENANT_LABEL}=acme`]);
    expect(labelsOf(PLAIN_NS)[TENANT_LABEL]).to.equal('acme');
    kubectl([
      '--kubeconfig',
      operator,
      'label',
      'namespace',
      PLAIN_NS,
      `${TENANT_LABEL}=blue`,
      '--overwrite',
    ]);
    expect(labelsOf(PLAIN_NS)[TENANT_LABEL]).to.equal('blue');
    kubectl(['--kubeconfig', operator, 'label', 'namespace', PLAIN_NS, `${TENANT_LABEL}-`]);
    expect(labelsOf(PLAIN_NS)).to.not.have.property(TENANT_LABEL);
  });

  it('does not get in the way of deleting a member namespace', () => {
    // The namespace controller finalizes through namespaces/finalize, which the policy also
    // watches; an unchanged label must pass.
    kubectl(['create', 'namespace', 'st-adm-doomed']);
    kubectl(['--kubeconfig', operator, 'label', 'namespace', 'st-adm-doomed', `${TENANT_LABEL}=acme`]);
    kubectl(['delete', 'namespace', 'st-adm-doomed', '--wait=true', '--timeout=60s']);
    expect(tryKubectl(['get', 'namespace', 'st-adm-doomed']).code).to.not.equal(0);
  });

  it('judges the operator by its identity, not by a look-alike user name', () => {
    // Given every RBAC right (system:masters), only the policy stands in the way.
    const lookalike = tryKubectl([
      'label',
      'namespace',
      PLAIN_NS,
      `${TENANT_LABEL}=acme`,
      `--as=${OPERATOR_SA}x`,
      '--as-group=system:masters',
    ]);
    expectRefused(lookalike, 'add it');
  });
});
