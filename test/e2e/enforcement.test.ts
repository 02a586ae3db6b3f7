// End to end: the real control plane, the operator, one agent per node programming iptables in
// the lab's node network namespaces, the sample tenants, and real packets.
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../operator/kube/config.js';
import { requestJson } from '../../operator/kube/raw-request.js';
import type { NodeEnforcement } from '../../operator/api/nodeenforcement.js';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import { EXPECTATIONS, type Expectation } from '../lab/demo/scenario.js';
import { INJECTED_FAILURE_MESSAGE } from '../support/agent-with-failures.js';
import { cond, formatVerdicts, kubectl, World } from '../lab/demo/world.js';
import { CLUSTER_NETWORK_POLICY_CRD, installClusterNetworkPolicyCrd, removeCrds } from '../support/crds.js';

const logDir = mkdtempSync(join(tmpdir(), 'softtenant-e2e-'));
const LATE_IP = '172.17.1.5'; // the lab host ext/blocked
const LATE_POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'api-late', namespace: 'team-b-api', labels: { app: 'api' } },
  spec: {
    nodeName: 'node-b',
    containers: [{ name: 'api', image: 'none', ports: [{ containerPort: 8080 }] }],
  },
};

/** One TCP connection to probe, and whether it should get through. */
function tcpCell(from: string, to: string, port: number, allowed: boolean): Expectation {
  return { from, to, port, protocol: 'TCP', allowed, why: '' };
}

/** The render mode of each sync an agent logged, in order. */
function renderModes(log: string): string[] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"message":"synced"'))
    .map((l) => (JSON.parse(l) as { render?: string }).render ?? '');
}

async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastErr });
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('end to end: tenants declared, enforced on two nodes, reported back', function () {
  this.timeout(240_000);
  let world: World;
  let kubeconfigPath: string;

  const tenant = async (name: string): Promise<SoftTenant> =>
    requestJson<SoftTenant>(world.opts.kc, 'GET', `/apis/tenancy.softtenant.io/v1alpha1/softtenants/${name}`);

  const expectMatrix = async (expectations: readonly Expectation[]): Promise<void> => {
    const results = await world.probe(expectations);
    const { text, mismatches } = formatVerdicts(expectations, results);
    expect(mismatches, `probed matrix differs from the declared one:\n${text}`).to.equal(0);
  };

  before(async function () {
    this.timeout(300_000);
    kubeconfigPath = process.env.KUBECONFIG as string;
    const kc = loadKubeConfig(kubeconfigPath);
    world = new World({ kc, kubeconfigPath, logDir, say: () => undefined, heartbeat: '2s', resync: '20s' });
    world.installCRDs();
    await world.createPods();
    await world.buildLab();
    world.startOperator();
    world.startAgent('node-a');
    world.startAgent('node-b');
    world.applySamples();
    await world.waitForEnforced(150_000);
  });

  after(async function () {
    this.timeout(60_000);
    await world?.stop();
  });

  it('shows ENFORCED per tenant and READY True in kubectl get softtenants', () => {
    const out = kubectl(kubeconfigPath, ['get', 'softtenants']);
    const rows = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/))
        .map((cols) => [cols[0], cols]),
    );
    expect(out.split('\n')[0]).to.match(/NAME\s+NAMESPACES\s+POLICIES\s+STRICT\s+ENFORCED\s+READY\s+AGE/);
    // team-a and team-b have pods on both nodes; the seed's role=db pod runs on node-a only.
    expect(rows['team-a']?.[4]).to.equal('2/2');
    expect(rows['team-b']?.[4]).to.equal('2/2');
    expect(rows['seed-example']?.[4]).to.equal('1/1');
    for (const name of ['team-a', 'team-b', 'seed-example']) {
      expect(rows[name]?.[3], `${name} STRICT`).to.equal('false');
      expect(rows[name]?.[5], name).to.equal('True');
    }
  });

  it('enforces on real packets exactly what the tenants declare', async () => {
    await expectMatrix(EXPECTATIONS);
  });

  it('reports per node what is programmed', async () => {
    const ne = await requestJson<NodeEnforcement>(
      world.opts.kc,
      'GET',
      '/apis/tenancy.softtenant.io/v1alpha1/nodeenforcements/node-a',
    );
    expect(ne.status?.backend).to.be.oneOf(['nft', 'legacy']);
    expect(ne.status?.chains).to.be.greaterThan(0);
    expect(ne.status?.policies?.map((p) => p.namespace)).to.include.members([
      'default',
      'team-a-web',
      'team-b-api',
    ]);
    expect(ne.status?.errors ?? []).to.deep.equal([]);
  });

  it('propagates a spec change to packets and to status', async () => {
    const cell = tcpCell('team-b-api/api', 'team-a-web/web', 8080, true);
    await expectMatrix([cell]);
    const before = await tenant('team-a');
    const allowFrom = (before.spec.allowFrom ?? []).slice(1); // drop the team-b app=api entry
    kubectl(kubeconfigPath, [
      'patch',
      'softtenant',
      'team-a',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { allowFrom } }),
    ]);
    await world.waitForEnforced(60_000, ['team-a']);
    const after = await tenant('team-a');
    expect(after.status?.observedGeneration).to.equal((before.metadata.generation ?? 0) + 1);
    await expectMatrix([{ ...cell, allowed: false }]);
    // Put it back; the declared matrix holds again.
    kubectl(kubeconfigPath, [
      'patch',
      'softtenant',
      'team-a',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { allowFrom: before.spec.allowFrom } }),
    ]);
    await world.waitForEnforced(60_000, ['team-a']);
    await expectMatrix(EXPECTATIONS);
  });

  it('enforces a pod that appears later as soon as it has an address (set members only), and forgets it', async () => {
    // A team-b app=api pod whose address is the lab host ext/blocked: team-a lets team-b app=api
    // in on 8080, so that host gets in while the pod exists, and not before or after.
    const cell = tcpCell('ext/blocked', 'team-a-web/web', 8080, false);
    await expectMatrix([cell]);
    const log = world.agents.get('node-a')?.log as string;
    const syncedBefore = renderModes(log).length;
    kubectl(kubeconfigPath, ['apply', '-f', '-'], JSON.stringify(LATE_POD));
    kubectl(kubeconfigPath, [
      'patch',
      'pod',
      LATE_POD.metadata.name,
      '-n',
      LATE_POD.metadata.namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Running', podIP: LATE_IP, podIPs: [{ ip: LATE_IP }] } }),
    ]);
    await eventually('ext/blocked let in as a team-b api pod', 20_000, async () => {
      const [r] = await world.probe([cell]);
      return r?.allowed ? true : undefined;
    });
    // node-a's agent made that change from its previous render.
    expect(renderModes(log).slice(syncedBefore), 'render modes of node-a syncs').to.include('pods');
    kubectl(kubeconfigPath, [
      'delete',
      'pod',
      LATE_POD.metadata.name,
      '-n',
      LATE_POD.metadata.namespace,
      // No kubelet here to confirm a graceful deletion: the pod would stay Terminating (and, as
      // on a real node until its containers stop, keep its address and its allowances).
      '--grace-period=0',
      '--force',
    ]);
    await eventually('ext/blocked shut out again', 20_000, async () => {
      const [r] = await world.probe([cell]);
      return r && !r.allowed ? true : undefined;
    });
  });

  it('marks a node whose agent died as not enforced, and recovers when it restarts', async () => {
    await world.agents.get('node-b')?.stop('SIGKILL');
    const stale = await eventually('team-a not enforced because node-b is stale', 30_000, async () => {
      const t = await tenant('team-a');
      return cond(t, 'Enforced') === 'False' ? t : undefined;
    });
    expect(stale.status?.enforcement?.summary).to.equal('1/2');
    expect(stale.status?.enforcement?.lagging?.[0]).to.include({ node: 'node-b', reason: 'AgentStale' });
    expect(cond(stale, 'Ready')).to.equal('False');
    // The rules stay in the node while its agent is down: isolation does not fail open.
    await expectMatrix(
      EXPECTATIONS.filter((e) => e.to.startsWith('team-a-db/') || e.from.startsWith('team-b-jobs/')),
    );
    world.startAgent('node-b');
    await world.waitForEnforced(60_000, ['team-a']);
    expect((await tenant('team-a')).status?.enforcement?.summary).to.equal('2/2');
  });

  it('shows a policy an agent cannot program in the node report and in the tenant status', async () => {
    const policies = JSON.parse(
      kubectl(kubeconfigPath, [
        'get',
        'networkpolicies',
        '-n',
        'default',
        '-l',
        'tenancy.softtenant.io/tenant=seed-example',
        '-o',
        'json',
      ]),
    ) as { items: { metadata: { name: string } }[] };
    const seedPolicy = policies.items[0]?.metadata.name;
    expect(seedPolicy, 'the seed tenant generated a policy in default').to.be.a('string');
    await world.agents.get('node-a')?.stop();
    world.opts.failPolicies = { 'node-a': [`default/${seedPolicy}`] };
    world.startAgent('node-a');
    const failing = await eventually('seed-example shows the injected failure', 30_000, async () => {
      const t = await tenant('seed-example');
      return cond(t, 'Enforced') === 'False' && /InjectedFailure/.test(JSON.stringify(t.status))
        ? t
        : undefined;
    });
    expect(failing.status?.enforcement?.lagging?.[0]).to.include({ node: 'node-a', reason: 'PolicyError' });
    const ne = await requestJson<NodeEnforcement>(
      world.opts.kc,
      'GET',
      '/apis/tenancy.softtenant.io/v1alpha1/nodeenforcements/node-a',
    );
    expect(ne.status?.errors).to.deep.include({
      namespace: 'default',
      name: seedPolicy,
      reason: 'InjectedFailure',
      message: INJECTED_FAILURE_MESSAGE,
    });
    await world.agents.get('node-a')?.stop();
    world.opts.failPolicies = {};
    world.startAgent('node-a');
    await world.waitForEnforced(60_000);
  });

  it('enforces a ClusterNetworkPolicy (CRD installed while the agents run) and reports it by UID and generation', async () => {
    // team-a lets team-b app=api in on 8080; an Admin Deny beats that NetworkPolicy.
    const cell = tcpCell('team-b-api/api', 'team-a-web/web', 8080, true);
    await expectMatrix([cell]);
    const created = installClusterNetworkPolicyCrd();
    const cnp = (priority: number): string =>
      JSON.stringify({
        apiVersion: 'policy.networking.k8s.io/v1beta1',
        kind: 'ClusterNetworkPolicy',
        metadata: { name: 'e2e-no-team-b-api' },
        spec: {
          tier: 'Admin',
          priority,
          subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'team-a-web' } } },
          ingress: [
            {
              action: 'Deny',
              from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'team-b-api' } } }],
            },
          ],
        },
      });
    const reported = async (generation: number): Promise<{ uid: string }> =>
      eventually(`a node report lists the policy at generation ${generation}`, 90_000, async () => {
        const live = JSON.parse(
          kubectl(kubeconfigPath, ['get', 'clusternetworkpolicy', 'e2e-no-team-b-api', '-o', 'json']),
        ) as { metadata: { uid: string; generation: number } };
        for (const node of ['node-a', 'node-b']) {
          const ne = await requestJson<NodeEnforcement>(
            world.opts.kc,
            'GET',
            `/apis/tenancy.softtenant.io/v1alpha1/nodeenforcements/${node}`,
          );
          const entry = ne.status?.clusterNetworkPolicies?.find((p) => p.name === 'e2e-no-team-b-api');
          if (entry && entry.uid === live.metadata.uid && entry.generation === generation) return entry;
        }
        return undefined;
      });
    try {
      kubectl(kubeconfigPath, ['apply', '-f', '-'], cnp(10));
      // The agents saw no CRD at start; they look again every 30 s.
      await reported(1);
      await expectMatrix([{ ...cell, allowed: false }]);
      kubectl(kubeconfigPath, ['apply', '-f', '-'], cnp(20));
      await reported(2);
      await expectMatrix([{ ...cell, allowed: false }]);
      kubectl(kubeconfigPath, ['delete', 'clusternetworkpolicy', 'e2e-no-team-b-api']);
      await eventually('the cell allowed again', 30_000, async () => {
        const [r] = await world.probe([cell]);
        return r?.allowed ? true : undefined;
      });
      await expectMatrix(EXPECTATIONS);
    } finally {
      kubectl(kubeconfigPath, ['delete', 'clusternetworkpolicy', 'e2e-no-team-b-api', '--ignore-not-found']);
      if (created) removeCrds([CLUSTER_NETWORK_POLICY_CRD]);
    }
  });
});
