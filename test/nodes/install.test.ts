// softtenant on real kubelet nodes, installed from config/default as users install it: the
// operator Deployment and the agent DaemonSet run as pods with the shipped RBAC, tokens and
// admission policies; a sample tenant is enforced on both nodes, checked with real packets
// between agnhost pods the kubelets run; the agent survives its pod being deleted and the
// operator's standby takes over from a deleted leader.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';
import { repoRoot } from '../support/controlplane.js';
import { AGNHOST_IMAGE, getJson, kubectl, nodeNetns, SYSTEM_NS } from './cluster.js';

interface Condition {
  type: string;
  status: string;
}
interface Pod {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: { image: string }[] };
  status: { phase?: string; podIP?: string; hostIP?: string; conditions?: Condition[] };
}
interface List<T> {
  items: T[];
}
interface Tenant {
  status?: { namespaceCount?: number; enforcement?: { summary?: string } };
}
interface NodeEnforcementStatus {
  status?: { backend?: string; lastSyncTime?: string };
}

const NODES = ['node1', 'node2'];
const OUTSIDER_NS = 'nodes-outsider';
const PORT = 8080;

const ready = (p: Pod): boolean =>
  p.status.phase === 'Running' &&
  (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function pods(ns: string, selector: string): Pod[] {
  return getJson<List<Pod>>(['-n', ns, 'get', 'pods', '-l', selector]).items;
}
const agentPods = (): Pod[] => pods(SYSTEM_NS, 'app.kubernetes.io/component=agent');
const operatorPods = (): Pod[] => pods(SYSTEM_NS, 'app.kubernetes.io/component=operator');

/** An agnhost pod serving HTTP on the named port "http" (8080), pinned to a node by label. */
function agnhostPod(ns: string, name: string, app: string, node: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app } },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'agnhost',
          image: AGNHOST_IMAGE,
          args: ['netexec', `--http-port=${PORT}`, '--udp-port=-1'],
          ports: [{ name: 'http', containerPort: PORT }],
        },
      ],
    },
  };
}

function namespace(name: string, labels: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

function podIP(ns: string, name: string): string {
  const ip = getJson<Pod>(['-n', ns, 'get', 'pod', name]).status.podIP;
  if (!ip) throw new Error(`${ns}/${name} has no IP`);
  return ip;
}

/** A real TCP connection from one pod to another's port, made by agnhost inside the source pod. */
function connects(from: string, to: string): boolean {
  const [fromNs, fromPod] = from.split('/') as [string, string];
  const [toNs, toPod] = to.split('/') as [string, string];
  try {
    kubectl([
      '-n',
      fromNs,
      'exec',
      fromPod,
      '--',
      '/agnhost',
      'connect',
      `${podIP(toNs, toPod)}:${PORT}`,
      '--timeout=3s',
      '--protocol=tcp',
    ]);
    return true;
  } catch {
    return false;
  }
}

interface Cell {
  from: string;
  to: string;
  allowed: boolean;
  why: string;
}
/** Probes every cell and fails with the list of cells that disagree. */
function expectMatrix(cells: Cell[]): void {
  const wrong = cells
    .map((c) => ({ ...c, got: connects(c.from, c.to) }))
    .filter((c) => c.got !== c.allowed)
    .map(
      (c) =>
        `${c.from} -> ${c.to}: ${c.got ? 'connected' : 'blocked'}, want ${c.allowed ? 'connected' : 'blocked'} (${c.why})`,
    );
  expect(wrong, wrong.join('\n')).to.deep.equal([]);
}

// Pods: a-web-1 (node1), a-web-2 (node2), a-db-1 (node1) in team-a; b-api-2 (node2) and
// b-jobs-1 (node1) in team-b; out-1 (node1), out-2 (node2) in a namespace no tenant owns.
const MATRIX: Cell[] = [
  { from: 'team-a-web/a-web-1', to: 'team-a-db/a-db-1', allowed: true, why: 'same tenant, same node' },
  { from: 'team-a-web/a-web-2', to: 'team-a-db/a-db-1', allowed: true, why: 'same tenant, across nodes' },
  { from: `${OUTSIDER_NS}/out-1`, to: 'team-a-db/a-db-1', allowed: false, why: 'outsider, same node' },
  { from: `${OUTSIDER_NS}/out-2`, to: 'team-a-db/a-db-1', allowed: false, why: 'outsider, across nodes' },
  {
    from: 'team-b-api/b-api-2',
    to: 'team-a-db/a-db-1',
    allowed: true,
    why: "team-a allows team-b's api pods on 8080",
  },
  {
    from: 'team-a-web/a-web-1',
    to: `${OUTSIDER_NS}/out-1`,
    allowed: false,
    why: 'team-a egress is Tenant-only',
  },
  {
    from: 'team-a-web/a-web-2',
    to: 'team-b-api/b-api-2',
    allowed: true,
    why: 'team-a to team-b on the named port http',
  },
  {
    from: `${OUTSIDER_NS}/out-1`,
    to: 'team-b-api/b-api-2',
    allowed: false,
    why: 'team-b ingress is isolated',
  },
];

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

function tenantSummary(name: string): string | undefined {
  return getJson<Tenant>(['get', 'softtenant', name]).status?.enforcement?.summary;
}

describe('nodes: softtenant installed from config/default on real kubelet nodes', function () {
  it('runs both operator replicas and one agent per node, Ready, from the local image', async () => {
    const nodes = getJson<List<{ metadata: { name: string } }>>(['get', 'nodes']).items.map(
      (n) => n.metadata.name,
    );
    expect(nodes.sort()).to.deep.equal(NODES);
    await eventually(
      () => {
        const ops = operatorPods();
        expect(ops.filter(ready), 'Ready operator pods').to.have.length(2);
        const agents = agentPods().filter(ready);
        expect(agents.map((p) => p.spec.nodeName).sort(), 'nodes with a Ready agent').to.deep.equal(NODES);
        for (const p of [...ops, ...agents])
          expect(p.spec.containers[0]?.image).to.equal('localhost/softtenant:dev');
      },
      { timeoutMs: 120_000 },
    );
  });

  it('answers health probes and serves metrics on the pods and the agents (host network)', async () => {
    for (const p of operatorPods()) {
      expect(
        (await get(`http://${p.status.podIP}:8081/readyz`)).status,
        `${p.metadata.name} readyz`,
      ).to.equal(200);
      expect((await get(`http://${p.status.podIP}:8081/healthz`)).status).to.equal(200);
      const metrics = await get(`http://${p.status.podIP}:8080/metrics`);
      expect(metrics.status).to.equal(200);
      expect(metrics.body).to.match(/^softtenant_leader_election_is_leader [01]$/m);
    }
    for (const p of agentPods()) {
      // hostNetwork: the agent listens on its node's address.
      expect(p.status.podIP).to.equal(p.status.hostIP);
      expect(
        (await get(`http://${p.status.hostIP}:9482/readyz`)).status,
        `${p.metadata.name} readyz`,
      ).to.equal(200);
      const metrics = await get(`http://${p.status.hostIP}:9481/metrics`);
      expect(metrics.status).to.equal(200);
      expect(metrics.body).to.match(/^softtenant_agent_programmed_policies(\{[^}]*\})? \d+/m);
    }
  });

  it('enforces a sample tenant on 2/2 nodes: isolation holds between pods on the same and on different nodes', async () => {
    kubectl(['apply', '--server-side', '-k', join(repoRoot, 'config/samples')]);
    kubectl(['apply', '-f', '-'], JSON.stringify(namespace(OUTSIDER_NS, {})));
    const specs = [
      agnhostPod('team-a-web', 'a-web-1', 'web', 'node1'),
      agnhostPod('team-a-web', 'a-web-2', 'web', 'node2'),
      agnhostPod('team-a-db', 'a-db-1', 'db', 'node1'),
      agnhostPod('team-b-api', 'b-api-2', 'api', 'node2'),
      agnhostPod('team-b-jobs', 'b-jobs-1', 'jobs', 'node1'),
      agnhostPod(OUTSIDER_NS, 'out-1', 'outsider', 'node1'),
      agnhostPod(OUTSIDER_NS, 'out-2', 'outsider', 'node2'),
    ];
    kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: specs }));
    for (const ns of ['team-a-web', 'team-a-db', 'team-b-api', 'team-b-jobs', OUTSIDER_NS])
      kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=120s']);
    await eventually(
      () => {
        expect(tenantSummary('team-a'), 'team-a enforced').to.equal('2/2');
        expect(tenantSummary('team-b'), 'team-b enforced').to.equal('2/2');
      },
      { timeoutMs: 60_000 },
    );
    // The agents report after programming, so the matrix holds now; retried only for the
    // endpoints of pods that became Ready a moment before their agent synced them.
    await eventually(() => expectMatrix(MATRIX), { timeoutMs: 30_000, intervalMs: 2_000 });
  });

  it('keeps enforcing while its agent pod is deleted, and the new pod reprograms the node', async () => {
    const old = agentPods().find((p) => p.spec.nodeName === 'node1');
    if (!old) throw new Error('no agent pod on node1');
    const ne = getJson<NodeEnforcementStatus>(['get', 'nodeenforcement', 'node1']);
    const backend = ne.status?.backend ?? 'nft';
    const deletedAt = new Date();
    kubectl(['-n', SYSTEM_NS, 'delete', 'pod', old.metadata.name, '--wait=true', '--timeout=60s']);
    // The agent is gone and its replacement not yet started: the rules stay in the node.
    const rules = execFileSync('ip', ['netns', 'exec', nodeNetns('node1'), `iptables-${backend}-save`], {
      encoding: 'utf8',
    });
    expect(rules).to.include('STN-FORWARD');
    expectMatrix(MATRIX.filter((c) => c.to.endsWith('a-db-1')));

    const fresh = await eventually(
      () => {
        const p = agentPods().find((q) => q.spec.nodeName === 'node1' && q.metadata.uid !== old.metadata.uid);
        expect(p && ready(p), 'a new Ready agent pod on node1').to.equal(true);
        return p as Pod;
      },
      { timeoutMs: 120_000 },
    );
    expect(fresh.metadata.name).to.not.equal(old.metadata.name);
    await eventually(
      () => {
        const t = getJson<NodeEnforcementStatus>(['get', 'nodeenforcement', 'node1']).status?.lastSyncTime;
        expect(t && new Date(t) > deletedAt, `node1 synced after the restart (lastSyncTime ${t})`).to.equal(
          true,
        );
      },
      { timeoutMs: 60_000 },
    );
    // A pod that appears now is programmed by the new agent: let in as team-a, not as outsider.
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          agnhostPod('team-a-web', 'a-web-3', 'web', 'node1'),
          agnhostPod(OUTSIDER_NS, 'out-3', 'outsider', 'node1'),
        ],
      }),
    );
    kubectl(['-n', 'team-a-web', 'wait', '--for=condition=Ready', 'pod/a-web-3', '--timeout=120s']);
    kubectl(['-n', OUTSIDER_NS, 'wait', '--for=condition=Ready', 'pod/out-3', '--timeout=120s']);
    await eventually(
      () =>
        expectMatrix([
          {
            from: 'team-a-web/a-web-3',
            to: 'team-a-db/a-db-1',
            allowed: true,
            why: 'new team-a pod, same node',
          },
          {
            from: `${OUTSIDER_NS}/out-3`,
            to: 'team-a-db/a-db-1',
            allowed: false,
            why: 'new outsider, same node',
          },
        ]),
      { timeoutMs: 30_000, intervalMs: 2_000 },
    );
  });

  it("hands over to the standby replica when the operator's leader pod is deleted", async () => {
    interface Lease {
      spec: { holderIdentity?: string };
    }
    const holder = (): string | undefined =>
      getJson<Lease>(['-n', SYSTEM_NS, 'get', 'lease', 'softtenant-operator']).spec.holderIdentity;
    const leader = holder();
    const names = operatorPods().map((p) => p.metadata.name);
    expect(names, 'the Lease is held by an operator pod').to.include(leader);
    kubectl(['-n', SYSTEM_NS, 'delete', 'pod', String(leader), '--wait=false']);
    // Leadership moves to a live replica: the standby, or the Deployment's replacement pod when
    // it asks first (both are candidates; which one wins is a race neither side controls).
    await eventually(
      () => {
        const now = holder();
        expect(now, 'Lease holder').to.not.equal(leader);
        expect(
          operatorPods().map((p) => p.metadata.name),
          'the new holder is a running operator pod',
        ).to.include(now);
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    // The new leader reconciles: a namespace joining team-b by its label is counted and isolated.
    const before = getJson<Tenant>(['get', 'softtenant', 'team-b']).status?.namespaceCount ?? 0;
    kubectl(['apply', '-f', '-'], JSON.stringify(namespace('team-b-late', { team: 'b' })));
    await eventually(
      () => {
        expect(getJson<Tenant>(['get', 'softtenant', 'team-b']).status?.namespaceCount).to.equal(before + 1);
        expect(kubectl(['-n', 'team-b-late', 'get', 'networkpolicies', '-o', 'name'])).to.not.equal('');
      },
      { timeoutMs: 60_000 },
    );
  });
});
