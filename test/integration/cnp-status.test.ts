// The Programmed condition of ClusterNetworkPolicies the platform team writes (no softtenant
// label, no SoftTenant at all), on the real kube-apiserver with the real `softtenant operator`
// and a real `softtenant agent` (in a network namespace this test makes, standing for one node):
// a policy whose subject selects a pod on the agent's node is Programmed=True at its generation
// once the agent reports it, and follows a spec change to the new generation; a policy selecting
// no pod is NoSelectedPods; the status is the operator's server-side apply on the status
// subresource, next to the platform's own manager of the spec; nothing is written at rest.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { kubectl } from '../support/controlplane.js';
import { installAllCrds, installClusterNetworkPolicyCrd, removeCrds, waitForWatch } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import {
  applyObjects,
  createNamespace,
  deleteObjects,
  getObject,
  kubectlDelete,
  tryKubectl,
  type Obj,
} from '../support/kube-json.js';
import { OperatorProcess } from '../support/operator-process.js';

const CNP = 'clusternetworkpolicies.policy.networking.k8s.io';
const suffix = Math.random().toString(36).slice(2, 7);
const namespace = `cnp-st-${suffix}`;
const node = `cnp-st-node-${suffix}`;
const netns = `st-cnpst-${suffix}`;
const selecting = `platform-web-${suffix}`;
const selectingNone = `platform-none-${suffix}`;
const ENDPOINT_FLAGS = ['--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'];

interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface CnpView extends Obj {
  status?: { conditions?: ConditionView[] };
}

function cnp(name: string): CnpView | undefined {
  return getObject(CNP, name) as CnpView | undefined;
}
function programmed(name: string): ConditionView | undefined {
  return cnp(name)?.status?.conditions?.find((c) => c.type === 'Programmed');
}

function run(cmd: string[]): void {
  const res = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd.join(' ')}: ${res.stderr}`);
}

/** A platform team's Admin policy, applied with its own field manager (kubectl's). */
function platformPolicy(
  name: string,
  subject: Record<string, unknown>,
  priority: number,
): Record<string, unknown> {
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name, labels: { team: 'platform' } },
    spec: {
      tier: 'Admin',
      priority,
      subject,
      ingress: [
        {
          name: 'deny-quarantined',
          action: 'Deny',
          from: [{ namespaces: { matchLabels: { quarantine: 'true' } } }],
        },
      ],
    },
  };
}

const webSubject = {
  pods: {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    podSelector: { matchLabels: { app: 'web' } },
  },
};
const noneSubject = { namespaces: { matchLabels: { [`nothing-${suffix}`]: 'here' } } };

function applyPolicy(policy: Record<string, unknown>): void {
  kubectl(['apply', '--server-side', '--field-manager=platform-team', '-f', '-'], JSON.stringify(policy));
}

describe('ClusterNetworkPolicy status: the Programmed condition on policies the platform team writes', function () {
  this.timeout(180_000);
  const operator = new OperatorProcess(['--resync-period', '2s', ...ENDPOINT_FLAGS]);
  const agent = new OperatorProcess(
    ['--node', node, '--netns', netns, '--resync-period=2s', '--heartbeat=2s', ...ENDPOINT_FLAGS],
    {},
    'agent',
  );
  let createdCrds: string[] = [];
  let cnpCrdCreated = false;
  let netnsCreated = false;

  before(async function () {
    if (process.getuid?.() !== 0) throw new Error('the agent part needs root (ip netns, iptables)');
    createdCrds = installAllCrds();
    cnpCrdCreated = installClusterNetworkPolicyCrd();
    await waitForWatch('/apis/tenancy.softtenant.io/v1alpha1/nodeenforcements');
    await waitForWatch(`/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies`);
    createNamespace(namespace);
    run(['ip', 'netns', 'add', netns]);
    netnsCreated = true;
    kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${node}\n`);
    applyObjects([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace, labels: { app: 'web' } },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'none', ports: [{ containerPort: 80 }] }] },
      } as Obj,
    ]);
    kubectl([
      'patch',
      'pod',
      'web',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Running', podIP: '10.79.0.10', podIPs: [{ ip: '10.79.0.10' }] } }),
    ]);
    operator.start();
    agent.start();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const p of [operator, agent]) process.stderr.write(`--- ${p.tail(30)}\n`);
  });

  after(async function () {
    try {
      await agent.stop(10_000);
      await operator.stop(10_000);
    } finally {
      for (const name of [selecting, selectingNone]) tryKubectl(['delete', CNP, name, '--ignore-not-found']);
      deleteObjects('namespaces', [namespace]);
      tryKubectl(['delete', 'node', node, '--ignore-not-found']);
      tryKubectl(['delete', 'nodeenforcements.tenancy.softtenant.io', node, '--ignore-not-found']);
      if (netnsCreated) spawnSync('ip', ['netns', 'delete', netns]);
      if (cnpCrdCreated) kubectlDelete(['crd', CNP]);
      removeCrds(createdCrds);
    }
  });

  it('a policy selecting a pod on the agent node is Programmed=True at its generation; one selecting none is NoSelectedPods', async function () {
    applyPolicy(platformPolicy(selecting, webSubject, 40));
    applyPolicy(platformPolicy(selectingNone, noneSubject, 41));
    await eventually(
      () => {
        const report = getObject('nodeenforcements.tenancy.softtenant.io', node) as
          | { status?: { clusterNetworkPolicies?: { name: string }[] } }
          | undefined;
        expect(report?.status?.clusterNetworkPolicies?.map((p) => p.name)).to.deep.equal([selecting]);
        const generation = cnp(selecting)?.metadata.generation;
        expect(programmed(selecting)).to.deep.include({
          status: 'True',
          reason: 'Programmed',
          observedGeneration: generation,
          message: `programmed (generation ${generation}) on 1/1 nodes running pods its subject selects`,
        });
        expect(programmed(selectingNone)).to.deep.include({
          status: 'True',
          reason: 'NoSelectedPods',
          observedGeneration: cnp(selectingNone)?.metadata.generation,
        });
      },
      { timeoutMs: 60_000 },
    );
    // The spec stays the platform team's; the operator owns only its status condition.
    const full = JSON.parse(
      tryKubectl(['get', CNP, selecting, '-o', 'json', '--show-managed-fields']).stdout,
    ) as { metadata: { managedFields?: { manager: string; operation: string; subresource?: string }[] } };
    expect(
      full.metadata.managedFields?.map((m) => [m.manager, m.operation, m.subresource ?? '']),
    ).to.have.deep.members([
      ['platform-team', 'Apply', ''],
      ['softtenant-operator', 'Apply', 'status'],
    ]);
  });

  it('writes nothing at rest', async function () {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const mark = operator.mark();
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(operator.writesSince(mark)).to.deep.equal([]);
    // The operator was running its loops all along (the tenants' resync logs at info).
    expect(operator.countSince('resync', mark)).to.be.greaterThan(0);
  });

  it('follows a spec change: observedGeneration moves to the new generation once the agent programs it', async function () {
    const before = cnp(selecting)?.metadata.generation ?? 0;
    applyPolicy(platformPolicy(selecting, webSubject, 45));
    await eventually(
      () => {
        const live = cnp(selecting);
        expect(live?.metadata.generation).to.be.greaterThan(before);
        expect(programmed(selecting)).to.include({
          status: 'True',
          reason: 'Programmed',
          observedGeneration: live?.metadata.generation,
        });
      },
      { timeoutMs: 60_000 },
    );
  });
});
