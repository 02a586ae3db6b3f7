// What the agent tells an observer (its metrics) after each sync, so the agent loop knows
// nothing about Prometheus.

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
