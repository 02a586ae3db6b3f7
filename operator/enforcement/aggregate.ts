// Pure: folds the nodes' NodeEnforcement reports into one tenant's status.enforcement and its
// Enforced condition. A node counts when it runs a pod that one of the tenant's policies
// selects; it is enforced when its agent is alive and programs the current generation of every
// such policy without error.
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

export function aggregateEnforcement(input: EnforcementInput): EnforcementResult {
  const required = new Map<string, NetworkPolicy[]>();
  for (const pod of input.pods) {
    // The model's predicate: a pod the node's agent would not enforce asks nothing of the node.
    const node = pod.spec.nodeName;
    if (!node || !isEnforceablePod(pod)) continue;
    for (const policy of input.policies) {
      if (policy.metadata.namespace !== pod.metadata.namespace || !input.selects(policy, pod)) continue;
      const list = required.get(node) ?? [];
      if (!list.includes(policy)) list.push(policy);
      required.set(node, list);
    }
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
  policies: readonly NetworkPolicy[],
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
    const name = `${p.metadata.namespace}/${p.metadata.name}`;
    const err = st.errors?.find((e) => e.namespace === p.metadata.namespace && e.name === p.metadata.name);
    if (err)
      return {
        node,
        reason: LagReason.PolicyError,
        message: `policy ${name} cannot be programmed: ${err.reason}: ${err.message}`,
      };
  }
  const applyError = st.errors?.find((e) => e.reason === 'ApplyFailed');
  for (const p of policies) {
    const name = `${p.metadata.namespace}/${p.metadata.name}`;
    const programmed = st.policies?.find((e) => e.uid === p.metadata.uid);
    const want = p.metadata.generation ?? 0;
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
        message: `policy ${name} generation ${want} not yet programmed (node has ${has})`,
      };
    }
  }
  return undefined;
}
