// A cluster the dataplane tests can change (policies, pod and namespace labels) and program
// into a lab: per node, the agent's renderer (IncrementalNodeRenderer: pod changes from the
// previous result, everything else in full) and the real apply edge (NodeDataplane), exactly
// what the agent runs, with the ClusterNetworkPolicy tiers added on top as the agent adds them,
// and the conntrack cut judged by the node's models. Changes replace
// objects instead of editing them, as a watch cache does (the renderer compares by identity).
import type {
  ContainerPort,
  Namespace,
  NetworkPolicy,
  NetworkPolicySpec,
  Pod,
} from '../../operator/api/networkpolicy.js';
import type { DataplaneApplyReport } from '../../operator/dataplane/node-dataplane.js';
import { NodeDataplane } from '../../operator/dataplane/node-dataplane.js';
import type { IptablesBackend } from '../../operator/dataplane/backend.js';
import { toolsFor } from '../../operator/dataplane/backend.js';
import { IncrementalNodeRenderer } from '../../operator/dataplane/render-incremental.js';
import { withClusterNetworkPolicies } from '../../operator/dataplane/cnp-render.js';
import type { ClusterNetworkPolicy } from '../../operator/api/clusternetworkpolicy.js';
import type { Lab } from '../lab/lab.js';
import type { LabExternalSpec, LabPort, LabSpec } from '../lab/spec.js';
import { labSpecFromSnapshot } from '../lab/snapshot.js';
import { rootLogger } from '../../operator/util/logger.js';

// The applier logs every apply at info; in a test's output the matrices are what matter.
if (!process.env.LOG_LEVEL) rootLogger.level = 'warn';

export function ns(name: string, labels: Record<string, string> = {}): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
  };
}

export interface PodExtra {
  /** A dual-stack pod's IPv6 address: status.podIPs lists the IPv4 one, then this. */
  ip6?: string;
  phase?: string;
  hostNetwork?: boolean;
  noIP?: boolean;
}

export function pod(
  namespace: string,
  name: string,
  node: string,
  ip: string,
  labels: Record<string, string> = {},
  ports: ContainerPort[] = [],
  extra: PodExtra = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { ...labels } },
    spec: {
      nodeName: node,
      ...(extra.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: 'main', ports }],
    },
    status: {
      phase: extra.phase ?? 'Running',
      ...(extra.noIP
        ? {}
        : { podIP: ip, podIPs: extra.ip6 !== undefined ? [{ ip }, { ip: extra.ip6 }] : [{ ip }] }),
    },
  };
}

export function netpol(namespace: string, name: string, spec: NetworkPolicySpec): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

export class ClusterState {
  /** ClusterNetworkPolicies, rendered on top of the NetworkPolicies (operator/dataplane/cnp-render.ts). */
  clusterNetworkPolicies: ClusterNetworkPolicy[] = [];

  constructor(
    public namespaces: Namespace[],
    public pods: Pod[],
    public policies: NetworkPolicy[] = [],
  ) {}

  pod(key: string): Pod {
    const [namespace, name] = key.split('/');
    const p = this.pods.find((x) => x.metadata.namespace === namespace && x.metadata.name === name);
    if (!p) throw new Error(`no pod ${key}`);
    return p;
  }

  /** Replaces a pod's labels (a relabel, as `kubectl label --overwrite` would leave them). */
  relabelPod(key: string, labels: Record<string, string>): void {
    const old = this.pod(key);
    this.pods = this.pods.map((p) =>
      p === old ? { ...p, metadata: { ...p.metadata, labels: { ...labels } } } : p,
    );
  }

  /** Sets a pod's phase (Succeeded/Failed pods keep their IP but are no longer peers or targets). */
  setPodPhase(key: string, phase: string): void {
    const old = this.pod(key);
    this.pods = this.pods.map((p) => (p === old ? { ...p, status: { ...p.status, phase } } : p));
  }

  relabelNamespace(name: string, labels: Record<string, string>): void {
    const n = this.namespaces.find((x) => x.metadata.name === name);
    if (!n) throw new Error(`no namespace ${name}`);
    const relabelled = {
      ...n,
      metadata: { ...n.metadata, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
    };
    this.namespaces = this.namespaces.map((x) => (x === n ? relabelled : x));
  }

  labSpec(externals: LabExternalSpec[], servePorts: LabPort[]): LabSpec {
    return labSpecFromSnapshot(this.pods, { externals, servePorts });
  }
}

export interface ProgramOptions {
  /** Resync from the real state (drift repair). */
  full?: boolean;
  /** Cut conntrack entries of flows the new rules deny (default true, as the agent does). */
  cutFlows?: boolean;
}

/** One NodeDataplane per lab node, all on one backend. */
export class LabDataplanes {
  private constructor(
    readonly lab: Lab,
    readonly backend: IptablesBackend,
    private readonly planes: Map<string, NodeDataplane>,
    private readonly renderers = new Map<string, IncrementalNodeRenderer>(),
  ) {}

  static async open(lab: Lab, backend: IptablesBackend): Promise<LabDataplanes> {
    const planes = new Map<string, NodeDataplane>();
    for (const n of lab.plan.nodes)
      planes.set(n.name, await NodeDataplane.open(lab.nodeRunner(n.name), backend));
    return new LabDataplanes(lab, backend, planes);
  }

  /** How each node's last render was made: 'pods' (from the previous result) or 'full'. */
  readonly lastModes = new Map<string, 'full' | 'pods'>();

  plane(node: string): NodeDataplane {
    const p = this.planes.get(node);
    if (!p) throw new Error(`no dataplane for node ${node}`);
    return p;
  }

  /** Renders the cluster for every node and applies it there, as each node's agent would. */
  async program(
    state: ClusterState,
    options: ProgramOptions = {},
  ): Promise<Map<string, DataplaneApplyReport>> {
    const out = new Map<string, DataplaneApplyReport>();
    for (const [node, plane] of this.planes) {
      let renderer = this.renderers.get(node);
      if (!renderer) this.renderers.set(node, (renderer = new IncrementalNodeRenderer(node)));
      const rendered = withClusterNetworkPolicies(
        renderer.render(state, { full: options.full ?? false }),
        state,
        node,
      );
      this.lastModes.set(node, rendered.mode);
      if (rendered.problems.length > 0) {
        throw new Error(
          `render problems on ${node}: ${rendered.problems.map((p) => `${p.namespace}/${p.name}: ${p.message}`).join('; ')}`,
        );
      }
      out.set(
        node,
        await plane.apply(rendered, { full: options.full ?? false, cutFlows: options.cutFlows ?? true }),
      );
    }
    return out;
  }

  async cleanup(): Promise<void> {
    for (const plane of this.planes.values()) await plane.cleanup();
  }

  /** iptables-save of a node's filter table with this backend. */
  async save(node: string): Promise<string> {
    const r = await this.lab.nodeRunner(node).run([toolsFor(this.backend).save, '-t', 'filter']);
    if (r.code !== 0) throw new Error(`save on ${node}: ${r.stderr}`);
    return r.stdout;
  }
}

/** The lines of an iptables-save that are not the agent's (foreign chains and rules), comments dropped. */
export function foreignLines(save: string): string[] {
  return save
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .filter((l) => !/STN-|softtenant/.test(l))
    .map((l) => l.replace(/\[\d+:\d+\]/, ''));
}
