// A strict tenant's ClusterNetworkPolicies in the status, on the real kube-apiserver with the
// real `softtenant operator` and a real `softtenant agent` (in a network namespace this test
// makes, standing for one node): the agent programs the tenant's NetworkPolicies and
// ClusterNetworkPolicies and reports them; from that report the operator sets each
// ClusterNetworkPolicy's Programmed condition (server-side apply on the status subresource,
// keeping another manager's condition) and counts the tenant enforced on the node only with both
// kinds programmed. A pod on a node without an agent turns both to False, naming the node; a spec
// change is followed to the new generation; nothing is written at rest.
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
  listObjects,
  releaseFinalizers,
  tryKubectl,
  type Obj,
} from '../support/kube-json.js';
import { OperatorProcess } from '../support/operator-process.js';
import {
  applyTenant,
  condition,
  FINALIZER,
  getTenant,
  MANAGED_BY,
  softTenant,
  statusOf,
  TENANT_LABEL,
} from '../support/softtenant-fixtures.js';

const CNP = 'clusternetworkpolicies.policy.networking.k8s.io';
const suffix = Math.random().toString(36).slice(2, 7);
const tenant = `str-st-${suffix}`;
const namespace = `str-st-${suffix}`;
const node = `str-st-node-${suffix}`;
const nodeWithoutAgent = `str-st-gone-${suffix}`;
const netns = `st-strst-${suffix}`;
const ENDPOINT_FLAGS = ['--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'];
const names = [`softtenant-${tenant}-allow`, `softtenant-${tenant}-deny`];

interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
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

function podObject(name: string, nodeName: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: { nodeName, containers: [{ name: 'c', image: 'none', ports: [{ containerPort: 80 }] }] },
  };
}
function setPodIP(name: string, ip: string): void {
  kubectl([
    'patch',
    'pod',
    name,
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } }),
  ]);
}

function strictSpec(port: number): Record<string, unknown> {
  return {
    namespaces: { names: [namespace] },
    isolation: { ingress: 'Tenant', egress: 'Tenant', strict: true },
    allowFrom: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        ports: [{ port }],
      },
    ],
  };
}

describe('strict tenants: the ClusterNetworkPolicies programmed by a real agent, in their status and the tenant', function () {
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
    await waitForWatch('/apis/tenancy.softtenant.io/v1alpha1/softtenants');
    await waitForWatch(`/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies`);
    createNamespace(namespace);
    run(['ip', 'netns', 'add', netns]);
    netnsCreated = true;
    kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${node}\n`);
    applyObjects([podObject('web', node)]);
    setPodIP('web', '10.78.0.10');
    operator.start();
    agent.start();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const p of [operator, agent]) process.stderr.write(`--- ${p.tail(30)}\n`);
  });

  after(async function () {
    try {
      if (operator.isRunning && getTenant(tenant)) {
        deleteObjects('softtenants', [tenant]);
        await eventually(() => expect(getTenant(tenant)).to.equal(undefined), { timeoutMs: 30_000 }).catch(
          () => undefined,
        );
      }
    } finally {
      await agent.stop(10_000);
      await operator.stop(10_000);
      releaseFinalizers(FINALIZER);
      deleteObjects('softtenants', [tenant]);
      for (const name of names) tryKubectl(['delete', CNP, name, '--ignore-not-found']);
      deleteObjects('namespaces', [namespace]);
      tryKubectl(['delete', 'node', node, '--ignore-not-found']);
      tryKubectl(['delete', 'nodeenforcements.tenancy.softtenant.io', node, '--ignore-not-found']);
      if (netnsCreated) spawnSync('ip', ['netns', 'delete', netns]);
      if (cnpCrdCreated) kubectlDelete(['crd', CNP]);
      removeCrds(createdCrds);
    }
  });

  it('the agent reports both ClusterNetworkPolicies; each is Programmed=True at its generation, the tenant enforced 1/1', async function () {
    applyTenant(softTenant(tenant, strictSpec(9090)));
    await eventually(
      () => {
        const report = getObject('nodeenforcements.tenancy.softtenant.io', node) as
          | { status?: { clusterNetworkPolicies?: { name: string; uid: string; generation: number }[] } }
          | undefined;
        expect(report?.status?.clusterNetworkPolicies?.map((p) => p.name)).to.deep.equal(names);
        for (const name of names) {
          const live = cnp(name);
          expect(programmed(name), name).to.deep.include({
            status: 'True',
            reason: 'Programmed',
            observedGeneration: live?.metadata.generation,
            message: `programmed (generation ${live?.metadata.generation}) on 1/1 nodes running pods its subject selects`,
          });
        }
        const status = statusOf(tenant);
        expect(condition(status, 'Enforced')).to.include({ status: 'True' });
        expect((status as { enforcement?: { summary?: string } }).enforcement?.summary).to.equal('1/1');
      },
      { timeoutMs: 60_000 },
    );
    // The status is the operator's server-side apply on the status subresource.
    const full = JSON.parse(
      tryKubectl(['get', CNP, names[0], '-o', 'json', '--show-managed-fields']).stdout,
    ) as {
      metadata: { managedFields?: { manager: string; operation: string; subresource?: string }[] };
    };
    expect(
      full.metadata.managedFields?.map((m) => [m.manager, m.operation, m.subresource ?? '']),
    ).to.have.deep.members([
      ['softtenant-operator', 'Apply', ''],
      ['softtenant-operator', 'Apply', 'status'],
    ]);
  });

  it('writes nothing at rest', async function () {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const mark = operator.mark();
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(operator.writesSince(mark)).to.deep.equal([]);
    expect(operator.countSince('resync', mark)).to.be.greaterThan(0);
  });

  it("a pod on a node without an agent: Programmed=False/NotProgrammed naming that node, the tenant NotEnforced; another manager's condition stays", async function () {
    // A condition of another controller, by its own server-side apply.
    kubectl(
      ['apply', '--server-side', '--field-manager=auditor', '--subresource=status', '-f', '-'],
      JSON.stringify({
        apiVersion: 'policy.networking.k8s.io/v1beta1',
        kind: 'ClusterNetworkPolicy',
        metadata: { name: names[0] },
        status: {
          conditions: [
            {
              type: 'example.com/Audited',
              status: 'True',
              reason: 'Seen',
              message: 'audited',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      }),
    );
    applyObjects([podObject('db', nodeWithoutAgent)]);
    setPodIP('db', '10.78.1.10');
    await eventually(
      () => {
        for (const name of names) {
          const c = programmed(name);
          expect(c, name).to.include({ status: 'False', reason: 'NotProgrammed' });
          expect(c?.message).to.include(
            `programmed (generation ${cnp(name)?.metadata.generation}) on 1/2 nodes`,
          );
          expect(c?.message).to.include(`no report from the softtenant agent on node ${nodeWithoutAgent}`);
        }
        expect(condition(statusOf(tenant), 'Enforced')).to.include({
          status: 'False',
          reason: 'NotEnforced',
        });
      },
      { timeoutMs: 30_000 },
    );
    expect(cnp(names[0])?.status?.conditions?.map((c) => c.type)).to.include('example.com/Audited');
    kubectl(['delete', 'pod', 'db', '-n', namespace, '--grace-period=0', '--force']);
    await eventually(
      () => {
        for (const name of names)
          expect(programmed(name), name).to.include({ status: 'True', reason: 'Programmed' });
        expect(condition(statusOf(tenant), 'Enforced')).to.include({ status: 'True' });
      },
      { timeoutMs: 30_000 },
    );
    expect(cnp(names[0])?.status?.conditions?.map((c) => c.type)).to.include('example.com/Audited');
  });

  it('follows a spec change to the new generation, programmed by the agent', async function () {
    const before = cnp(names[0])?.metadata.generation ?? 0;
    applyTenant(softTenant(tenant, strictSpec(9091)));
    await eventually(
      () => {
        const live = cnp(names[0]);
        expect(live?.metadata.generation).to.be.greaterThan(before);
        expect(programmed(names[0])).to.include({
          status: 'True',
          reason: 'Programmed',
          observedGeneration: live?.metadata.generation,
        });
      },
      { timeoutMs: 60_000 },
    );
    const owned = listObjects(CNP, { selector: `${MANAGED_BY}=softtenant,${TENANT_LABEL}=${tenant}` });
    expect(owned.map((p) => p.metadata.name).sort()).to.deep.equal(names);
  });
});
