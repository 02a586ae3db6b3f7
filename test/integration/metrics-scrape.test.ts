// Prometheus /metrics and the probes of real processes against the real API server: the
// operator after it has reconciled a tenant, and a node agent programming iptables inside a
// network namespace this test creates (and deletes). Every softtenant_* family has HELP text;
// the values follow the work done.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { kubectl } from '../support/controlplane.js';
import { probe, sample, scrape, type Scrape } from '../support/endpoints.js';
import { installAllCrds, removeCrds, waitForWatch } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import {
  applyObjects,
  createNamespace,
  deleteObjects,
  releaseFinalizers,
  tryKubectl,
} from '../support/kube-json.js';
import { OperatorProcess } from '../support/operator-process.js';
import {
  applyTenant,
  expectReady,
  FINALIZER,
  getTenant,
  softTenant,
} from '../support/softtenant-fixtures.js';

const suffix = Math.random().toString(36).slice(2, 7);
const ENDPOINT_FLAGS = ['--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'];

/** Every softtenant_* family is documented and typed. */
function expectDocumented(s: Scrape, prefix: string): string[] {
  const families = [...s.help.keys()].filter((name) => name.startsWith(prefix)).sort();
  for (const name of families) {
    expect(s.help.get(name), `HELP of ${name}`).to.have.length.greaterThan(20);
    expect(s.types.get(name), `TYPE of ${name}`).to.be.oneOf(['counter', 'gauge', 'histogram']);
  }
  return families;
}

function run(cmd: string[]): void {
  const res = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd.join(' ')}: ${res.stderr}`);
}

describe('metrics: scraping the operator and the agent', function () {
  this.timeout(180_000);
  const processes: OperatorProcess[] = [];
  const tenant = `metrics-${suffix}`;
  const namespace = `metrics-${suffix}`;
  const node = `metrics-node-${suffix}`;
  const netns = `st-metrics-${suffix}`;
  let netnsCreated = false;
  let createdCrds: string[] = [];

  before(async function () {
    createdCrds = installAllCrds();
    await waitForWatch('/apis/tenancy.softtenant.io/v1alpha1/softtenants');
    createNamespace(namespace, { team: 'metrics' });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      for (const p of processes) process.stderr.write(`--- process log tail ---\n${p.tail(25)}\n`);
    }
  });

  after(async function () {
    try {
      const operator = processes.find((p) => p.isRunning);
      if (operator && getTenant(tenant)) {
        deleteObjects('softtenants', [tenant]);
        await eventually(() => expect(getTenant(tenant)).to.equal(undefined), { timeoutMs: 30_000 }).catch(
          () => undefined,
        );
      }
    } finally {
      for (const p of processes) await p.stop(10_000);
      releaseFinalizers(FINALIZER);
      deleteObjects('softtenants', [tenant]);
      deleteObjects('namespaces', [namespace]);
      tryKubectl(['delete', 'node', node, '--ignore-not-found']);
      tryKubectl(['delete', 'nodeenforcements.tenancy.softtenant.io', node, '--ignore-not-found']);
      if (netnsCreated) spawnSync('ip', ['netns', 'delete', netns]);
      removeCrds(createdCrds);
    }
  });

  it('the operator serves softtenant_* metrics that follow its work, and its probes', async function () {
    const operator = new OperatorProcess(['--resync-period=2s', ...ENDPOINT_FLAGS]);
    processes.push(operator);
    operator.start();
    applyTenant(softTenant(tenant, { namespaces: { names: [namespace] }, isolation: { egress: 'Tenant' } }));
    await eventually(() => expectReady(tenant));
    await eventually(async () => {
      expect(await probe(operator, '/healthz')).to.equal(200);
      expect(await probe(operator, '/readyz')).to.equal(200);
    });

    // status.enforcement.lastEnforcedSeconds is the controller's to fill from the node reports;
    // written here by hand, it shows the path from the SoftTenant watch to the histogram.
    for (const seconds of [1.5, 0.4]) {
      kubectl([
        'patch',
        'softtenants.tenancy.softtenant.io',
        tenant,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { enforcement: { nodes: 1, enforced: 1, lastEnforcedSeconds: seconds } } }),
      ]);
      await eventually(async () => {
        const s = await scrape(operator);
        expect(sample(s, 'softtenant_tenant_enforcement_seconds_sum')).to.be.at.least(seconds);
      });
    }

    const s = await eventually(async () => {
      const s = await scrape(operator);
      expect(sample(s, 'softtenant_reconcile_total{result="success"}')).to.be.greaterThan(0);
      return s;
    });
    const families = expectDocumented(s, 'softtenant_');
    expect(families).to.include.members([
      'softtenant_reconcile_total',
      'softtenant_reconcile_duration_seconds',
      'softtenant_reconcile_errors_total',
      'softtenant_workqueue_depth',
      'softtenant_workqueue_in_flight',
      'softtenant_tenants',
      'softtenant_leader_election_is_leader',
      'softtenant_api_writes_total',
      'softtenant_tenant_enforcement_seconds',
      'softtenant_rest_client_rate_limiter_duration_seconds',
      'softtenant_rest_client_request_duration_seconds',
      'softtenant_rest_client_requests_total',
    ]);
    // Its writes went through the client-side limit and were answered: every apply and status
    // write is a PATCH; a handful of requests never wait for a token (the burst).
    // By resource too: the tenant's finalizer and its status, the namespace label, the policy
    // (an apply that creates it is answered 201).
    const patchesOf = (resource: string): number =>
      ['200', '201']
        .map(
          (code) =>
            s.samples.get(
              `softtenant_rest_client_requests_total{verb="PATCH",resource="${resource}",code="${code}"}`,
            ) ?? 0,
        )
        .reduce((a, b) => a + b, 0);
    const resources = ['softtenants', 'softtenants/status', 'namespaces', 'networkpolicies'];
    for (const resource of resources)
      expect(patchesOf(resource), `answered PATCHes of ${resource}`).to.be.at.least(1);
    const patches = resources.map(patchesOf).reduce((a, b) => a + b, 0);
    expect(sample(s, 'softtenant_rest_client_request_duration_seconds_count{verb="PATCH"}')).to.be.at.least(
      patches,
    );
    expect(sample(s, 'softtenant_rest_client_rate_limiter_duration_seconds_count')).to.be.at.least(patches);
    expect(
      sample(s, 'softtenant_rest_client_rate_limiter_duration_seconds_bucket{le="0.001"}'),
    ).to.be.greaterThan(0);
    const reconciles = sample(s, 'softtenant_reconcile_total{result="success"}');
    expect(sample(s, 'softtenant_reconcile_duration_seconds_count')).to.be.at.least(reconciles);
    expect(sample(s, 'softtenant_reconcile_duration_seconds_sum')).to.be.greaterThan(0);
    expect(sample(s, 'softtenant_reconcile_errors_total{reason="unexpected"}')).to.equal(0);
    // The isolation policy of the one namespace, its label, the finalizer, status (at least: the
    // operator also converges whatever other tenants this control plane holds).
    expect(sample(s, 'softtenant_api_writes_total{verb="apply",kind="NetworkPolicy"}')).to.be.at.least(1);
    expect(sample(s, 'softtenant_api_writes_total{verb="patch",kind="Namespace"}')).to.be.at.least(1);
    expect(sample(s, 'softtenant_api_writes_total{verb="patch-status",kind="SoftTenant"}')).to.be.at.least(1);
    expect(sample(s, 'softtenant_tenants{condition="Ready",status="True"}')).to.be.at.least(1);
    expect(s.samples.has('softtenant_tenants{condition="Ready",status="False"}')).to.equal(true);
    expect(sample(s, 'softtenant_leader_election_is_leader'), 'a single instance leads').to.equal(1);
    expect(sample(s, 'softtenant_workqueue_depth')).to.be.at.least(0);
    // Both hand-written enforcements observed once each (not the replays of the same status).
    expect(sample(s, 'softtenant_tenant_enforcement_seconds_count')).to.be.at.least(2);
    expect(sample(s, 'softtenant_tenant_enforcement_seconds_bucket{le="0.5"}')).to.be.at.least(1);
    expect(sample(s, 'softtenant_tenant_enforcement_seconds_bucket{le="2"}')).to.be.at.least(2);
    // Node.js process metrics come along.
    expect(sample(s, 'process_cpu_user_seconds_total')).to.be.greaterThan(0);
    expect(sample(s, 'nodejs_heap_size_used_bytes')).to.be.greaterThan(0);
  });

  it('the agent serves sync, ruleset and report metrics, and is Ready after its first sync', async function () {
    if (process.getuid?.() !== 0) throw new Error('the agent part needs root (ip netns, iptables)');
    run(['ip', 'netns', 'add', netns]);
    netnsCreated = true;
    kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${node}\n`);
    const ip = '10.77.0.10';
    applyObjects([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace, labels: { app: 'web' } },
        spec: {
          nodeName: node,
          containers: [{ name: 'web', image: 'none', ports: [{ containerPort: 80 }] }],
        },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'web-from-web', namespace },
        spec: {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 80 }] }],
        },
      },
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
      JSON.stringify({ status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } }),
    ]);

    const agent = new OperatorProcess(
      ['--node', node, '--netns', netns, '--resync-period=2s', '--heartbeat=2s', ...ENDPOINT_FLAGS],
      {},
      'agent',
    );
    processes.push(agent);
    agent.start();
    const s = await eventually(
      async () => {
        expect(await probe(agent, '/readyz')).to.equal(200);
        const s = await scrape(agent);
        expect(sample(s, 'softtenant_agent_local_pods')).to.equal(1);
        expect(sample(s, 'softtenant_agent_report_writes_total')).to.be.greaterThan(0);
        // A periodic full sync has run as well as the first one.
        expect(sample(s, 'softtenant_agent_syncs_total{result="success"}')).to.be.at.least(2);
        return s;
      },
      { timeoutMs: 60_000 },
    );
    expect(await probe(agent, '/healthz')).to.equal(200);
    const families = expectDocumented(s, 'softtenant_agent_');
    expect(families).to.include.members([
      'softtenant_agent_sync_duration_seconds',
      'softtenant_agent_syncs_total',
      'softtenant_agent_apply_failures_total',
      'softtenant_agent_chains',
      'softtenant_agent_rules',
      'softtenant_agent_ipset_entries',
      'softtenant_agent_local_pods',
      'softtenant_agent_report_writes_total',
      'softtenant_agent_conntrack_flows_cut_total',
    ]);
    expect(sample(s, 'softtenant_agent_syncs_total{result="error"}')).to.equal(0);
    expect(sample(s, 'softtenant_agent_apply_failures_total')).to.equal(0);
    expect(sample(s, 'softtenant_agent_sync_duration_seconds_count{full="true"}')).to.be.at.least(1);
    expect(sample(s, 'softtenant_agent_chains')).to.be.greaterThan(0);
    expect(sample(s, 'softtenant_agent_rules')).to.be.greaterThan(0);
    // The peer set of the policy holds the one pod's address.
    expect(sample(s, 'softtenant_agent_ipset_entries')).to.be.at.least(1);
    // The hand-written policy and the tenant's generated one (the pod is in its namespace).
    expect(sample(s, 'softtenant_agent_programmed_policies')).to.equal(2);
    expect(sample(s, 'softtenant_agent_policy_errors')).to.equal(0);
    expect(sample(s, 'softtenant_agent_conntrack_flows_cut_total')).to.equal(0);
    expect(sample(s, 'softtenant_agent_last_sync_success_timestamp_seconds')).to.be.closeTo(
      Date.now() / 1000,
      60,
    );

    // The figures agree with what the agent reported in its NodeEnforcement.
    const report = JSON.parse(
      kubectl(['get', 'nodeenforcements.tenancy.softtenant.io', node, '-o', 'json']),
    ) as {
      status?: { chains?: number; rules?: number; ipsetEntries?: number };
    };
    expect(report.status?.chains).to.equal(sample(s, 'softtenant_agent_chains'));
    expect(report.status?.rules).to.equal(sample(s, 'softtenant_agent_rules'));
    expect(report.status?.ipsetEntries).to.equal(sample(s, 'softtenant_agent_ipset_entries'));

    expect(await agent.stop(10_000), 'agent exit code after SIGTERM').to.equal(0);
  });
});
