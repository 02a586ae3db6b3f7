// Pure: folds the nodes' NodeEnforcement reports into one tenant's status.enforcement and its
// Enforced condition. A node counts when it runs a pod that one of the tenant's policies
// selects; it is enforced when its agent is alive and programs the current generation of every
// such policy without error. A strict tenant's ClusterNetworkPolicies count like its
// NetworkPolicies (the report lists them apart, by UID and generation); one policy alone gives
// that policy's own Programmed condition (controller/cnp-status.ts).
import type { ClusterNetworkPolicy } from '../api/clusternetworkpolicy.js';
import type { EnforcementStatus, NodeLag } from '../api/softtenant.js';
import type { NetworkPolicy, Pod } from '../api/networkpolicy.js';
import type { NodeEnforcement } from '../api/nodeenforcement.js';
import { Reason } from '../api/conditions.js';
import { isEnforceablePod } from '../netpol/pods.js';

export const LagReason = {
  NoAgent: 'NoAgent',
  AgentStale: 'AgentStale',
  ApplyFailed: 'ApplyFailed',
  PolicyError: 'PolicyError',
  Pending: 'Pending',
} as const;

export interface EnforcementInput {
  /** The tenant's policies as the API server has them (uid and generation set). */
  policies: readonly NetworkPolicy[];
  /** Pods of the tenant's namespaces. */
  pods: readonly Pod[];
  reports: readonly NodeEnforcement[];
  now: Date;
  selects: (policy: NetworkPolicy, pod: Pod) => boolean;
  /** A strict tenant's ClusterNetworkPolicies, as the API server has them (uid and generation set). */
  clusterNetworkPolicies?: readonly ClusterNetworkPolicy[];
  /** Does the ClusterNetworkPolicy's subject select the pod (host-network pods never)? */
  cnpSelects?: (policy: ClusterNetworkPolicy, pod: Pod) => boolean;
  /** A report older than this many heartbeat periods means the agent is gone. */
  staleAfterHeartbeats?: number;
}

export interface EnforcementResult {
  status: EnforcementStatus;
  condition: { status: 'True' | 'False'; reason: string; message: string };
  /**
   * The earliest moment a counted node's report, fresh now, turns stale: nothing announces an
   * agent's death, so the operator looks again then.
   */
  recheckAt?: Date;
}

/** A policy a node must program, of either kind, as the report names it. */
interface Required {
  kind: 'NetworkPolicy' | 'ClusterNetworkPolicy';
  namespace: string;
  name: string;
  uid: string | undefined;
  generation: number;
}

function describe(r: Required): string {
  return r.kind === 'NetworkPolicy' ? `policy ${r.namespace}/${r.name}` : `ClusterNetworkPolicy ${r.name}`;
}

export function aggregateEnforcement(input: EnforcementInput): EnforcementResult {
  const required = new Map<string, Required[]>();
  const need = (node: string, kind: Required['kind'], meta: NetworkPolicy['metadata']): void => {
    const list = required.get(node) ?? [];
    if (!list.some((r) => r.kind === kind && r.uid === meta.uid && r.name === meta.name))
      list.push({
        kind,
        namespace: meta.namespace ?? '',
        name: meta.name,
        uid: meta.uid,
        generation: meta.generation ?? 0,
      });
    required.set(node, list);
  };
  for (const pod of input.pods) {
    // The model's predicate: a pod the node's agent would not enforce asks nothing of the node.
    const node = pod.spec.nodeName;
    if (!node || !isEnforceablePod(pod)) continue;
    for (const policy of input.policies) {
      if (policy.metadata.namespace !== pod.metadata.namespace || !input.selects(policy, pod)) continue;
      need(node, 'NetworkPolicy', policy.metadata);
    }
    for (const policy of input.clusterNetworkPolicies ?? [])
      if (input.cnpSelects?.(policy, pod)) need(node, 'ClusterNetworkPolicy', policy.metadata);
  }
  const reports = new Map(input.reports.map((r) => [r.metadata.name, r]));
  const lagging: NodeLag[] = [];
  const nodes = [...required.keys()].sort();
  for (const node of nodes) {
    const lag = nodeLag(node, required.get(node) ?? [], reports.get(node), input);
    if (lag) lagging.push(lag);
  }
  const recheckAt = earliestStaleness(nodes, reports, input);
  const enforced = nodes.length - lagging.length;
  const status: EnforcementStatus = { nodes: nodes.length, enforced, summary: `${enforced}/${nodes.length}` };
  if (lagging.length) status.lagging = lagging;
  const timing = recheckAt ? { recheckAt } : {};
  if (nodes.length === 0) {
    return {
      status,
      condition: {
        status: 'True',
        reason: Reason.Enforced,
        message: 'no running pod is selected by the tenant policies; nothing to enforce',
      },
    };
  }
  if (lagging.length === 0) {
    return {
      status,
      ...timing,
      condition: {
        status: 'True',
        reason: Reason.Enforced,
        message: `all policies enforced on ${enforced}/${nodes.length} nodes`,
      },
    };
  }
  const onlyPending = lagging.every((l) => l.reason === LagReason.Pending);
  const detail = lagging.map((l) => `${l.node}: ${l.message ?? l.reason}`).join('; ');
  return {
    status,
    ...timing,
    condition: {
      status: 'False',
      reason: onlyPending ? Reason.AwaitingEnforcement : Reason.NotEnforced,
      message: `enforced on ${enforced}/${nodes.length} nodes; ${detail}`,
    },
  };
}

function staleAfterMs(heartbeatSeconds: number | undefined, input: EnforcementInput): number {
  return (heartbeatSeconds ?? 30) * (input.staleAfterHeartbeats ?? 3) * 1000;
}

function earliestStaleness(
  nodes: readonly string[],
  reports: ReadonlyMap<string, NodeEnforcement>,
  input: EnforcementInput,
): Date | undefined {
  let earliest: number | undefined;
  for (const node of nodes) {
    const report = reports.get(node);
    const beat = report?.status?.heartbeatTime;
    if (!report || !beat) continue;
    const deadline = Date.parse(beat) + staleAfterMs(report.status?.heartbeatSeconds, input);
    if (deadline <= input.now.getTime()) continue;
    if (earliest === undefined || deadline < earliest) earliest = deadline;
  }
  return earliest === undefined ? undefined : new Date(earliest);
}

function nodeLag(
  node: string,
  policies: readonly Required[],
  report: NodeEnforcement | undefined,
  input: EnforcementInput,
): NodeLag | undefined {
  const st = report?.status;
  if (!st?.heartbeatTime) {
    return {
      node,
      reason: LagReason.NoAgent,
      message: `no report from the softtenant agent on node ${node}; is the agent running there?`,
    };
  }
  const ageMs = input.now.getTime() - Date.parse(st.heartbeatTime);
  if (!(ageMs <= staleAfterMs(st.heartbeatSeconds, input))) {
    // The heartbeat time, not its age: the message (and so the status) stays the same from one
    // reconcile to the next while the agent stays silent, and nothing is written meanwhile.
    return {
      node,
      reason: LagReason.AgentStale,
      message: `agent on node ${node} has not reported since ${st.heartbeatTime} (heartbeat every ${st.heartbeatSeconds ?? 30}s); is it running?`,
    };
  }
  for (const p of policies) {
    const err = st.errors?.find(
      (e) =>
        (e.kind ?? 'NetworkPolicy') === p.kind && (e.namespace ?? '') === p.namespace && e.name === p.name,
    );
    if (err)
      return {
        node,
        reason: LagReason.PolicyError,
        message: `${describe(p)} cannot be programmed: ${err.reason}: ${err.message}`,
      };
  }
  const applyError = st.errors?.find((e) => e.reason === 'ApplyFailed');
  for (const p of policies) {
    const listed = p.kind === 'NetworkPolicy' ? st.policies : st.clusterNetworkPolicies;
    const programmed = listed?.find((e) => e.uid === p.uid);
    const want = p.generation;
    if (!programmed || programmed.generation < want) {
      if (applyError)
        return {
          node,
          reason: LagReason.ApplyFailed,
          message: `applying rules failed: ${applyError.message}`,
        };
      const has = programmed ? `generation ${programmed.generation}` : 'nothing';
      return {
        node,
        reason: LagReason.Pending,
        message: `${describe(p)} generation ${want} not yet programmed (node has ${has})`,
      };
    }
  }
  return undefined;
}
