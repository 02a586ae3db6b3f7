// The node agent's Prometheus metrics: sync counts and durations, apply failures, the size of
// what is programmed, report writes, and connections cut because a change revoked them.
//
// The agent hands its numbers in (SyncObserver, AgentCounts); nothing here reads the agent, so
// the agent loop knows nothing about Prometheus and metrics nothing about the agent.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The ruleset a successful sync programmed. */
export interface ProgrammedSummary {
  chains: number;
  rules: number;
  ipsetEntries: number;
  localPods: number;
  /** Policies programmed for local pods. */
  policies: number;
  /** Policies that select local pods but could not be programmed. */
  policyErrors: number;
}

export interface SyncObservation {
  /** A full sync re-reads the real state to repair drift. */
  full: boolean;
  durationMs: number;
  ok: boolean;
  /** For a failed sync: whether the render or the apply failed. */
  failedStage?: 'render' | 'apply';
  /** For a successful sync. */
  programmed?: ProgrammedSummary;
}

export interface SyncObserver {
  synced(observation: SyncObservation): void;
}

/** Counts kept by other parts of the agent, read at scrape time. */
export interface AgentCounts {
  reportWrites: () => number;
  flowsCut: () => number;
}

export class AgentMetrics implements SyncObserver {
  readonly syncDuration: Histogram<'full'>;
  readonly syncs: Counter<'result'>;
  readonly applyFailures: Counter;
  private readonly programmed: Record<
    'chains' | 'rules' | 'ipsetEntries' | 'localPods' | 'policies' | 'policyErrors',
    Gauge
  >;
  private readonly lastSuccess: Gauge;

  constructor(registry: Registry, counts: AgentCounts) {
    const registers = [registry];
    this.syncDuration = new Histogram({
      name: 'softtenant_agent_sync_duration_seconds',
      help: 'Time one sync takes (render and apply; the conntrack cut runs after it, in the background); full="true" for the periodic drift-repairing sync.',
      labelNames: ['full'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.syncs = new Counter({
      name: 'softtenant_agent_syncs_total',
      help: "Syncs of this node's rules, by result (success, or error: the last good rules stay).",
      labelNames: ['result'],
      registers,
    });
    for (const result of ['success', 'error']) this.syncs.inc({ result }, 0);
    this.applyFailures = new Counter({
      name: 'softtenant_agent_apply_failures_total',
      help: 'Syncs whose ipset/iptables-restore apply failed (retried with backoff).',
      registers,
    });
    const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers });
    this.programmed = {
      chains: gauge('softtenant_agent_chains', 'iptables chains the agent has programmed on this node.'),
      rules: gauge('softtenant_agent_rules', "iptables rules in the agent's chains on this node."),
      ipsetEntries: gauge('softtenant_agent_ipset_entries', "Entries in the agent's ipsets on this node."),
      localPods: gauge('softtenant_agent_local_pods', 'Pods on this node with an IP (not hostNetwork).'),
      policies: gauge(
        'softtenant_agent_programmed_policies',
        'NetworkPolicies selecting pods on this node that are programmed.',
      ),
      policyErrors: gauge(
        'softtenant_agent_policy_errors',
        'NetworkPolicies selecting pods on this node that cannot be programmed (see the NodeEnforcement report).',
      ),
    };
    this.lastSuccess = gauge(
      'softtenant_agent_last_sync_success_timestamp_seconds',
      'Unix time of the last successful sync (0 before the first).',
    );
    new Counter({
      name: 'softtenant_agent_report_writes_total',
      help: "Writes of this node's NodeEnforcement report to the API server.",
      registers,
      collect() {
        this.reset();
        this.inc(counts.reportWrites());
      },
    });
    new Counter({
      name: 'softtenant_agent_conntrack_flows_cut_total',
      help: "Conntrack entries deleted because a change revoked the connection's allowance.",
      registers,
      collect() {
        this.reset();
        this.inc(counts.flowsCut());
      },
    });
  }

  synced(o: SyncObservation): void {
    this.syncDuration.observe({ full: String(o.full) }, o.durationMs / 1000);
    this.syncs.inc({ result: o.ok ? 'success' : 'error' });
    if (!o.ok && o.failedStage === 'apply') this.applyFailures.inc();
    if (o.ok && o.programmed) {
      for (const [key, gauge] of Object.entries(this.programmed)) {
        gauge.set(o.programmed[key as keyof typeof this.programmed]);
      }
      this.lastSuccess.set(Date.now() / 1000);
    }
  }
}
