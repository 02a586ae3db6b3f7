// Brings up the whole softtenant path against a running API server: CRDs, nodes, namespaces and
// pods in the API, the netns lab with the same pods, the operator and one agent per node.
// Used by `make demo` (hack/demo/run.ts) and the end-to-end test.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { KubeAccess } from '../../../operator/kube/config.js';
import type { SoftTenant } from '../../../operator/api/softtenant.js';
import { requestJson } from '../../../operator/kube/raw-request.js';
import { Lab } from '../lab.js';
import type { ProbeResult } from '../probe.js';
import type { LabPort } from '../spec.js';
import { createNodes, createPod, ensureNamespace } from './cluster.js';
import { repoRoot, startSofttenant, type Managed } from './processes.js';
import { EXPECTATIONS, EXTERNALS, EXTRA_NAMESPACES, NODES, PODS, type Expectation } from './scenario.js';

export type Say = (msg: string) => void;

export interface WorldOptions {
  kc: KubeAccess;
  kubeconfigPath: string;
  logDir: string;
  say: Say;
  heartbeat?: string;
  resync?: string;
  /**
   * Policies ("namespace/name") a node's agent treats as unprogrammable: that agent runs through
   * test/support/agent-with-failures.ts (fault injection in tests).
   */
  failPolicies?: Record<string, string[]>;
}

export function kubectl(kubeconfig: string, args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export class World {
  readonly agents = new Map<string, Managed>();
  operator: Managed | undefined;
  lab: Lab | undefined;

  constructor(readonly opts: WorldOptions) {}

  installCRDs(): void {
    this.opts.say('installing the CRDs (SoftTenant, NodeEnforcement)');
    kubectl(this.opts.kubeconfigPath, [
      'apply',
      '--server-side',
      '-f',
      join(repoRoot, 'crds/tenancy.softtenant.io_softtenants.yaml'),
      '-f',
      join(repoRoot, 'crds/tenancy.softtenant.io_nodeenforcements.yaml'),
    ]);
    kubectl(this.opts.kubeconfigPath, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/softtenants.tenancy.softtenant.io',
      'crd/nodeenforcements.tenancy.softtenant.io',
    ]);
  }

  async createPods(): Promise<void> {
    const { kc, say } = this.opts;
    say(
      `creating nodes ${NODES.join(', ')} and ${PODS.length} pods in the API (nodeName, labels, ports, status.podIP)`,
    );
    await createNodes(kc, NODES);
    // The sample namespaces come from config/samples; create them first so pods can land.
    kubectl(this.opts.kubeconfigPath, ['apply', '-f', join(repoRoot, 'config/samples/namespaces.yaml')]);
    for (const ns of EXTRA_NAMESPACES) await ensureNamespace(kc, ns.name, ns.labels);
    for (const pod of PODS) await createPod(kc, pod);
  }

  async buildLab(): Promise<Lab> {
    this.opts.say(
      `building the lab: ${NODES.length} node network namespaces with a bridge each, routed to each other, ${PODS.length} pod and ${EXTERNALS.length} external hosts`,
    );
    const serve = new Map<string, LabPort>();
    for (const e of EXTERNALS) for (const p of e.ports) serve.set(`${p.port}/${p.protocol}`, p);
    this.lab = await Lab.up({
      nodes: NODES,
      pods: PODS.map((p) => ({
        namespace: p.namespace,
        name: p.name,
        node: p.node,
        ip: p.ip,
        ports: p.ports.map(({ port, protocol }) => ({ port, protocol })),
      })),
      externals: EXTERNALS.map((e) => ({ name: e.name, ip: e.ip, node: e.node })),
      servePorts: [...serve.values()],
    });
    return this.lab;
  }

  startOperator(): void {
    this.opts.say('starting the operator');
    this.operator = startSofttenant(
      'operator',
      ['operator', '--kubeconfig', this.opts.kubeconfigPath, '--resync-period', this.opts.resync ?? '30s'],
      this.opts.logDir,
    );
  }

  startAgent(node: string): Managed {
    if (!this.lab) throw new Error('build the lab before starting agents');
    this.opts.say(`starting the agent for ${node} (programs netns ${this.lab.nodeNetns(node)})`);
    const fail = this.opts.failPolicies?.[node] ?? [];
    const agentFlags = [
      '--node',
      node,
      '--kubeconfig',
      this.opts.kubeconfigPath,
      '--netns',
      this.lab.nodeNetns(node),
      '--heartbeat',
      this.opts.heartbeat ?? '2s',
      '--resync-period',
      this.opts.resync ?? '30s',
    ];
    const agent =
      fail.length === 0
        ? startSofttenant(`agent-${node}`, ['agent', ...agentFlags], this.opts.logDir)
        : startSofttenant(
            `agent-${node}`,
            [...fail.flatMap((p) => ['--fail-policy', p]), ...agentFlags],
            this.opts.logDir,
            process.env,
            join(repoRoot, 'dist/test/support/agent-with-failures.js'),
          );
    this.agents.set(node, agent);
    return agent;
  }

  applySamples(): void {
    this.opts.say('applying the sample tenants (team-a, team-b, seed-example)');
    kubectl(this.opts.kubeconfigPath, ['apply', '-k', join(repoRoot, 'config/samples')]);
  }

  async tenants(): Promise<SoftTenant[]> {
    const list = await requestJson<{ items: SoftTenant[] }>(
      this.opts.kc,
      'GET',
      '/apis/tenancy.softtenant.io/v1alpha1/softtenants',
    );
    return list.items;
  }

  /** Waits until every tenant is Ready and Enforced for its current generation. */
  async waitForEnforced(timeoutMs: number, names?: string[]): Promise<SoftTenant[]> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const tenants = (await this.tenants()).filter((t) => !names || names.includes(t.metadata.name));
      const pending = tenants.filter((t) => !isReadyAndEnforced(t));
      const line = tenants
        .map((t) => `${t.metadata.name}: ${t.status?.enforcement?.summary ?? '-'} ready=${cond(t, 'Ready')}`)
        .join(', ');
      if (line !== last) {
        this.opts.say(`  ${line}`);
        last = line;
      }
      if (tenants.length > 0 && pending.length === 0) return tenants;
      if (Date.now() > deadline) {
        const detail = pending
          .map((t) => `${t.metadata.name}: ${JSON.stringify(t.status?.conditions ?? [])}`)
          .join('\n');
        throw new Error(`tenants not Ready and Enforced after ${timeoutMs} ms:\n${detail}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async probe(expectations: readonly Expectation[] = EXPECTATIONS): Promise<ProbeResult[]> {
    if (!this.lab) throw new Error('no lab');
    return this.lab.probe(expectations.map(({ from, to, port, protocol }) => ({ from, to, port, protocol })));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
    await this.operator?.stop();
    await this.lab?.down();
    this.lab = undefined;
  }
}

export function cond(t: SoftTenant, type: string): string {
  return t.status?.conditions?.find((c) => c.type === type)?.status ?? '-';
}

export function isReadyAndEnforced(t: SoftTenant): boolean {
  return (
    t.status?.observedGeneration === t.metadata.generation &&
    cond(t, 'Ready') === 'True' &&
    cond(t, 'Enforced') === 'True'
  );
}

/** Rows "from -> to port/proto  expected  got  why", with a mark on each mismatch. */
export function formatVerdicts(
  expectations: readonly Expectation[],
  results: readonly ProbeResult[],
): { text: string; mismatches: number } {
  let mismatches = 0;
  const key = (c: { from: string; to: string; port: number; protocol: string }): string =>
    `${c.from}>${c.to}:${c.port}/${c.protocol}`;
  const byKey = new Map(results.map((r) => [key(r), r]));
  const rows = expectations.map((e) => {
    const r = byKey.get(key(e));
    const got = r ? (r.allowed ? 'allowed' : `denied (${r.outcome})`) : 'not probed';
    const good = r !== undefined && r.allowed === e.allowed;
    if (!good) mismatches++;
    return `${good ? ' ' : '!'} ${`${e.from} -> ${e.to} ${e.port}/${e.protocol}`.padEnd(52)} ${(e.allowed ? 'allow' : 'deny').padEnd(6)} ${got.padEnd(20)} ${e.why}`;
  });
  const header = `  ${'connection'.padEnd(52)} ${'want'.padEnd(6)} ${'got'.padEnd(20)} why`;
  return { text: [header, ...rows].join('\n'), mismatches };
}
