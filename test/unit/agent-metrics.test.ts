import { expect } from 'chai';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../operator/metrics/agent-metrics.js';
import { parseExposition } from '../support/endpoints.js';

describe('agent metrics', () => {
  it('counts syncs by result, times them by kind, and keeps the last programmed sizes', async () => {
    const registry = new Registry();
    let writes = 0;
    let cut = 0;
    const metrics = new AgentMetrics(registry, { reportWrites: () => writes, flowsCut: () => cut });
    const programmed = { chains: 7, rules: 30, ipsetEntries: 12, localPods: 5, policies: 3, policyErrors: 0 };
    metrics.synced({ full: true, durationMs: 40, ok: true, programmed });
    metrics.synced({ full: false, durationMs: 8, ok: true, programmed: { ...programmed, rules: 28 } });
    // A failed apply leaves the last good figures (the rules stay in place).
    metrics.synced({ full: false, durationMs: 3, ok: false, failedStage: 'apply' });
    metrics.synced({ full: false, durationMs: 1, ok: false, failedStage: 'render' });
    writes = 4;
    cut = 2;

    const s = parseExposition(await registry.metrics());
    expect(s.samples.get('softtenant_agent_syncs_total{result="success"}')).to.equal(2);
    expect(s.samples.get('softtenant_agent_syncs_total{result="error"}')).to.equal(2);
    expect(s.samples.get('softtenant_agent_apply_failures_total')).to.equal(1);
    expect(s.samples.get('softtenant_agent_sync_duration_seconds_count{full="true"}')).to.equal(1);
    expect(s.samples.get('softtenant_agent_sync_duration_seconds_count{full="false"}')).to.equal(3);
    expect(s.samples.get('softtenant_agent_sync_duration_seconds_sum{full="true"}')).to.equal(0.04);
    expect(s.samples.get('softtenant_agent_chains')).to.equal(7);
    expect(s.samples.get('softtenant_agent_rules')).to.equal(28);
    expect(s.samples.get('softtenant_agent_ipset_entries')).to.equal(12);
    expect(s.samples.get('softtenant_agent_local_pods')).to.equal(5);
    expect(s.samples.get('softtenant_agent_programmed_policies')).to.equal(3);
    expect(s.samples.get('softtenant_agent_policy_errors')).to.equal(0);
    expect(s.samples.get('softtenant_agent_report_writes_total')).to.equal(4);
    expect(s.samples.get('softtenant_agent_conntrack_flows_cut_total')).to.equal(2);
    expect(s.samples.get('softtenant_agent_last_sync_success_timestamp_seconds')).to.be.closeTo(
      Date.now() / 1000,
      5,
    );
    expect(s.types.get('softtenant_agent_report_writes_total')).to.equal('counter');
  });

  it('reports zeros before the first sync, so dashboards and alerts see the series', async () => {
    const registry = new Registry();
    new AgentMetrics(registry, { reportWrites: () => 0, flowsCut: () => 0 });
    const s = parseExposition(await registry.metrics());
    expect(s.samples.get('softtenant_agent_syncs_total{result="success"}')).to.equal(0);
    expect(s.samples.get('softtenant_agent_syncs_total{result="error"}')).to.equal(0);
    expect(s.samples.get('softtenant_agent_last_sync_success_timestamp_seconds')).to.equal(0);
  });
});
