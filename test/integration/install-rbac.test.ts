// Least privilege, checked against the real API server: config/default installed with
// `kubectl apply -k`, then `kubectl auth can-i --as=<ServiceAccount>` for what the operator and
// the agent must and must not be able to do, no wildcard anywhere, and the agent's "only its own
// node's report" rule exercised with real pod-bound tokens (and with impersonated extras).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubectl } from '../support/controlplane.js';
import {
  AGENT_SA,
  OPERATOR_SA,
  SYSTEM_NAMESPACE,
  TokenKubeconfigs,
  install,
  render,
  tryKubectl,
  type Installation,
  type KubeObject,
  agentTokenOnNode,
} from './install-fixture.js';

interface Check {
  verb: string;
  resource: string;
  /** Namespace to ask about; omitted for cluster-scoped resources, 'all' for --all-namespaces. */
  ns?: string;
  subresource?: string;
}

const execFileAsync = promisify(execFile);

/** `kubectl auth can-i` answers yes (exit 0) or no (exit 1); anything else is an error. */
async function canI(sa: string, c: Check): Promise<boolean> {
  const args = ['auth', 'can-i', c.verb, c.resource, `--as=${sa}`];
  if (c.ns === 'all') args.push('--all-namespaces');
  else if (c.ns) args.push('-n', c.ns);
  if (c.subresource) args.push(`--subresource=${c.subresource}`);
  const { stdout, stderr } = await execFileAsync('kubectl', args, {
    env: process.env,
    encoding: 'utf8',
  }).catch((err: { stdout?: string; stderr?: string }) => ({
    stdout: err.stdout ?? '',
    stderr: err.stderr ?? '',
  }));
  const answer = stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl ${args.join(' ')}: ${stderr}`);
  return answer === 'yes';
}

/** Asks every question, four kubectl processes at a time (the machine is small and shared). */
async function answers(sa: string, checks: Check[]): Promise<{ check: Check; yes: boolean }[]> {
  const out: { check: Check; yes: boolean }[] = [];
  for (let i = 0; i < checks.length; i += 4) {
    const batch = checks.slice(i, i + 4);
    const got = await Promise.all(batch.map((c) => canI(sa, c)));
    batch.forEach((check, j) => out.push({ check, yes: got[j] === true }));
  }
  return out;
}

function describeCheck(c: Check): string {
  const where = c.ns === 'all' ? ' in all namespaces' : c.ns ? ` in ${c.ns}` : '';
  return `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''}${where}`;
}

const each = (verbs: string[], resource: string, extra: Omit<Check, 'verb' | 'resource'> = {}): Check[] =>
  verbs.map((verb) => ({ verb, resource, ...extra }));

const operatorMust: Check[] = [
  ...each(['get', 'list', 'watch', 'update', 'patch'], 'softtenants.tenancy.softtenant.io'),
  ...each(['get', 'update', 'patch'], 'softtenants.tenancy.softtenant.io', { subresource: 'status' }),
  ...each(['update'], 'softtenants.tenancy.softtenant.io', { subresource: 'finalizers' }),
  ...each(['get', 'list', 'watch'], 'nodeenforcements.tenancy.softtenant.io'),
  ...each(['get', 'list', 'watch', 'patch'], 'namespaces'),
  ...each(['get', 'create', 'update', 'patch', 'delete'], 'networkpolicies.networking.k8s.io', {
    ns: 'team-a',
  }),
  ...each(['list', 'watch'], 'networkpolicies.networking.k8s.io', { ns: 'all' }),
  ...each(
    ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
    'clusternetworkpolicies.policy.networking.k8s.io',
  ),
  ...each(['patch'], 'clusternetworkpolicies.policy.networking.k8s.io', { subresource: 'status' }),
  ...each(['list', 'watch'], 'pods', { ns: 'all' }),
  ...each(['create', 'patch'], 'events.events.k8s.io', { ns: 'default' }),
  ...each(['create', 'patch'], 'events', { ns: 'default' }),
  ...each(['get', 'create', 'update'], 'leases.coordination.k8s.io', { ns: SYSTEM_NAMESPACE }),
];

const operatorMustNot: Check[] = [
  ...each(['get', 'list'], 'secrets', { ns: 'all' }),
  ...each(['get'], 'secrets', { ns: SYSTEM_NAMESPACE }),
  ...each(['create', 'delete', 'update'], 'namespaces'),
  ...each(['create', 'delete'], 'softtenants.tenancy.softtenant.io'),
  ...each(['create', 'update', 'patch', 'delete'], 'nodeenforcements.tenancy.softtenant.io'),
  ...each(['get', 'create', 'delete'], 'pods', { ns: 'team-a' }),
  ...each(['get', 'update'], 'leases.coordination.k8s.io', { ns: 'kube-system' }),
  ...each(['create', 'update', 'delete'], 'customresourcedefinitions.apiextensions.k8s.io'),
  ...each(['update', 'delete'], 'validatingadmissionpolicies.admissionregistration.k8s.io'),
  ...each(['update', 'delete'], 'validatingadmissionpolicybindings.admissionregistration.k8s.io'),
  ...each(['bind', 'escalate'], 'clusterroles.rbac.authorization.k8s.io'),
  ...each(['impersonate'], 'serviceaccounts', { ns: SYSTEM_NAMESPACE }),
  ...each(['create'], 'serviceaccounts', { ns: SYSTEM_NAMESPACE, subresource: 'token' }),
  ...each(['get', 'list'], 'configmaps', { ns: 'all' }),
];

const agentMust: Check[] = [
  ...each(['get', 'list', 'watch'], 'pods', { ns: 'all' }),
  ...each(['get', 'list', 'watch'], 'namespaces'),
  ...each(['get', 'list', 'watch'], 'networkpolicies.networking.k8s.io', { ns: 'all' }),
  ...each(['get', 'create', 'update', 'patch'], 'nodeenforcements.tenancy.softtenant.io'),
  ...each(['get', 'update', 'patch'], 'nodeenforcements.tenancy.softtenant.io', { subresource: 'status' }),
  ...each(['create', 'patch'], 'events.events.k8s.io', { ns: 'default' }),
  ...each(['create', 'patch'], 'events', { ns: 'default' }),
  ...each(['patch'], 'pods', { ns: 'all', subresource: 'status' }),
  ...each(['get'], 'nodes'),
  ...each(['get', 'list', 'watch'], 'clusternetworkpolicies.policy.networking.k8s.io'),
];

const agentMustNot: Check[] = [
  ...each(['create', 'update', 'patch', 'delete'], 'networkpolicies.networking.k8s.io', { ns: 'team-a' }),
  ...each(['create', 'update', 'patch', 'delete'], 'namespaces'),
  ...each(['get', 'list'], 'secrets', { ns: 'all' }),
  ...each(['delete', 'list', 'watch'], 'nodeenforcements.tenancy.softtenant.io'),
  ...each(['get', 'list', 'update', 'patch'], 'softtenants.tenancy.softtenant.io'),
  ...each(['create', 'update', 'patch', 'delete'], 'pods', { ns: 'team-a' }),
  ...each(['update'], 'pods', { ns: 'team-a', subresource: 'status' }),
  ...each(['list', 'watch', 'update', 'patch'], 'nodes'),
  ...each(['get', 'create', 'update'], 'leases.coordination.k8s.io', { ns: SYSTEM_NAMESPACE }),
  ...each(['get', 'list'], 'configmaps', { ns: 'all' }),
  ...each(['create'], 'serviceaccounts', { ns: SYSTEM_NAMESPACE, subresource: 'token' }),
  ...each(['create', 'update', 'patch', 'delete'], 'clusternetworkpolicies.policy.networking.k8s.io'),
  ...each(['patch', 'update'], 'clusternetworkpolicies.policy.networking.k8s.io', { subresource: 'status' }),
];

describe('install: least-privilege RBAC (config/default on the real API server)', function () {
  this.timeout(180_000);
  let installation: Installation | undefined;
  before(async () => {
    installation = await install();
  });
  after(() => installation?.uninstall());

  for (const [who, sa, must, mustNot] of [
    ['operator', OPERATOR_SA, operatorMust, operatorMustNot],
    ['agent', AGENT_SA, agentMust, agentMustNot],
  ] as const) {
    it(`the ${who} can do everything it needs`, async () => {
      const denied = (await answers(sa, must)).filter((a) => !a.yes).map((a) => describeCheck(a.check));
      expect(denied, `${who} is missing`).to.deep.equal([]);
    });
    it(`the ${who} can do nothing it does not need`, async () => {
      const allowed = (await answers(sa, mustNot)).filter((a) => a.yes).map((a) => describeCheck(a.check));
      expect(allowed, `${who} may wrongly`).to.deep.equal([]);
    });
  }

  it('grants no wildcard in any rule, rendered or live', () => {
    const roles = render('config/default').filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
    expect(roles.map((r) => r.metadata.name).sort()).to.deep.equal([
      'softtenant-agent',
      'softtenant-leader-election',
      'softtenant-operator',
    ]);
    const live = roles.map(
      (r) =>
        JSON.parse(
          kubectl([
            'get',
            r.kind.toLowerCase(),
            r.metadata.name,
            ...(r.metadata.namespace ? ['-n', r.metadata.namespace] : []),
            '-o',
            'json',
          ]),
        ) as KubeObject,
    );
    for (const role of [...roles, ...live]) {
      const rules = role.rules as Record<string, string[] | undefined>[];
      expect(rules.length, role.metadata.name).to.be.greaterThan(0);
      for (const rule of rules) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs']) {
          expect(rule[field] ?? [], `${role.metadata.name} ${field}`).to.not.include('*');
        }
        expect(rule.nonResourceURLs, `${role.metadata.name} nonResourceURLs`).to.equal(undefined);
      }
    }
  });

  it('binds each role to its own ServiceAccount only', () => {
    const bindings = render('config/default').filter(
      (o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding',
    );
    const summary = bindings
      .map((b) => {
        const subjects = b.subjects as { kind: string; name: string; namespace: string }[];
        const roleRef = b.roleRef as { kind: string; name: string };
        return `${b.kind}/${b.metadata.name}: ${roleRef.kind}/${roleRef.name} -> ${subjects.map((s) => `${s.kind}/${s.namespace}/${s.name}`).join(',')}`;
      })
      .sort();
    expect(summary).to.deep.equal([
      'ClusterRoleBinding/softtenant-agent: ClusterRole/softtenant-agent -> ServiceAccount/softtenant-system/softtenant-agent',
      'ClusterRoleBinding/softtenant-operator: ClusterRole/softtenant-operator -> ServiceAccount/softtenant-system/softtenant-operator',
      'RoleBinding/softtenant-leader-election: Role/softtenant-leader-election -> ServiceAccount/softtenant-system/softtenant-operator',
    ]);
  });

  describe("the agent writes only its own node's NodeEnforcement", () => {
    let tokens: TokenKubeconfigs;
    const nodes = ['st-node-a', 'st-node-b'];
    const reportsToRemove = ['st-node-a', 'st-node-b', 'st-node-c', 'st-imp-a', 'st-imp-b'];
    let agentOnA = '';

    const report = (name: string): string =>
      `apiVersion: tenancy.softtenant.io/v1alpha1\nkind: NodeEnforcement\nmetadata:\n  name: ${name}\n`;
    const statusPatch = JSON.stringify({ status: { backend: 'nft', chains: 4, rules: 12 } });

    before(async () => {
      tokens = new TokenKubeconfigs();
      for (const n of nodes)
        kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${n}\n`);
      // The agent's own pod on st-node-a and a token bound to it, as the kubelet mounts it.
      agentOnA = await agentTokenOnNode('st-node-a', tokens);
      // Sanity: the API server itself puts the node into the token's user info.
      const who = JSON.parse(kubectl(['--kubeconfig', agentOnA, 'auth', 'whoami', '-o', 'json'])) as {
        status: { userInfo: { username: string; extra?: Record<string, string[]> } };
      };
      expect(who.status.userInfo.username).to.equal(AGENT_SA);
      expect(who.status.userInfo.extra?.['authentication.kubernetes.io/node-name']).to.deep.equal([
        'st-node-a',
      ]);
    });

    after(() => {
      tryKubectl([
        'delete',
        'nodeenforcements.tenancy.softtenant.io',
        '--ignore-not-found',
        ...reportsToRemove,
      ]);
      tryKubectl(['delete', 'node', '--ignore-not-found', ...nodes]);
      tokens?.remove();
    });

    it('creates and updates the report of its own node with a pod-bound token', () => {
      kubectl(['--kubeconfig', agentOnA, 'create', '-f', '-'], report('st-node-a'));
      kubectl([
        '--kubeconfig',
        agentOnA,
        'patch',
        'nodeenforcement',
        'st-node-a',
        '--subresource=status',
        '--type=merge',
        '-p',
        statusPatch,
      ]);
      const live = JSON.parse(kubectl(['get', 'nodeenforcement', 'st-node-a', '-o', 'json'])) as {
        status: { rules: number };
      };
      expect(live.status.rules).to.equal(12);
    });

    it("is refused creating or updating another node's report, with a message naming both nodes", () => {
      const create = tryKubectl(['--kubeconfig', agentOnA, 'create', '-f', '-'], report('st-node-b'));
      expect(create.code).to.not.equal(0);
      expect(create.stderr).to.include(
        'the softtenant agent on node st-node-a may only write NodeEnforcement st-node-a, not st-node-b',
      );

      kubectl(['create', '-f', '-'], report('st-node-b')); // written by an administrator
      const patch = tryKubectl([
        '--kubeconfig',
        agentOnA,
        'patch',
        'nodeenforcement',
        'st-node-b',
        '--subresource=status',
        '--type=merge',
        '-p',
        statusPatch,
      ]);
      expect(patch.code).to.not.equal(0);
      expect(patch.stderr).to.include('not st-node-b');
      const live = JSON.parse(kubectl(['get', 'nodeenforcement', 'st-node-b', '-o', 'json'])) as {
        status?: unknown;
      };
      expect(live.status).to.equal(undefined);
    });

    it('refuses every write from an agent token that is not bound to a pod on a node', () => {
      const unbound = tokens.forToken(
        kubectl(['create', 'token', 'softtenant-agent', '-n', SYSTEM_NAMESPACE]).trim(),
      );
      const res = tryKubectl(['--kubeconfig', unbound, 'create', '-f', '-'], report('st-node-c'));
      expect(res.code).to.not.equal(0);
      expect(res.stderr).to.include('names no node');
      // Reading stays possible: RBAC allows get, and the policy only judges writes.
      expect(tryKubectl(['--kubeconfig', unbound, 'get', 'nodeenforcement', 'st-node-a']).code).to.equal(0);
    });

    it('judges impersonated requests by the same user extra (kubectl --as-user-extra)', () => {
      const as = (node: string): string[] => [
        `--as=${AGENT_SA}`,
        '--as-group=system:serviceaccounts',
        `--as-user-extra=authentication.kubernetes.io/node-name=${node}`,
      ];
      expect(tryKubectl(['create', '-f', '-', ...as('st-imp-a')], report('st-imp-a')).code).to.equal(0);
      const denied = tryKubectl(['create', '-f', '-', ...as('st-imp-a')], report('st-imp-b'));
      expect(denied.code).to.not.equal(0);
      expect(denied.stderr).to.include('may only write NodeEnforcement st-imp-a, not st-imp-b');
    });
  });
});
