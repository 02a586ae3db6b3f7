// Which pods NetworkPolicy applies to is decided once (netpol/pods.ts isEnforceablePod). This
// table runs the three places that depend on it over the same pods — the node's model, the
// tenant's enforcement aggregation and the agent's localPods count — and checks they agree with
// each other and with the semantics (a finished, IP-less or hostNetwork pod is no target).
import { expect } from 'chai';
import type { Pod } from '../../operator/api/networkpolicy.js';
import { aggregateEnforcement } from '../../operator/enforcement/aggregate.js';
import { buildNodeModel } from '../../operator/netpol/model.js';
import { countEnforceablePodsOn } from '../../operator/netpol/pods.js';
import { NODE, policy } from './netpol-fixtures.js';

function podWith(name: string, spec: Partial<Pod['spec']>, status: Pod['status']): Pod {
  return {
    metadata: { name, namespace: 'a' },
    spec: { nodeName: NODE, containers: [{ name: 'c' }], ...spec },
    ...(status ? { status } : {}),
  };
}

const cases: [string, Pod, boolean][] = [
  ['running with podIP', podWith('run', {}, { phase: 'Running', podIP: '10.0.0.1' }), true],
  ['pending with an IP already', podWith('pend', {}, { phase: 'Pending', podIP: '10.0.0.2' }), true],
  ['no phase, podIPs only', podWith('ips', {}, { podIPs: [{ ip: '10.0.0.3' }] }), true],
  ['IPv6 only', podWith('v6', {}, { phase: 'Running', podIP: 'fd00::3' }), true],
  ['succeeded, stale IP', podWith('done', {}, { phase: 'Succeeded', podIP: '10.0.0.4' }), false],
  ['failed, stale IP', podWith('fail', {}, { phase: 'Failed', podIP: '10.0.0.5' }), false],
  ['no IP yet', podWith('noip', {}, { phase: 'Pending' }), false],
  ['no status', podWith('nostatus', {}, undefined), false],
  ['not an IP', podWith('junk', {}, { phase: 'Running', podIP: 'not-an-ip' }), false],
  ['hostNetwork', podWith('host', { hostNetwork: true }, { phase: 'Running', podIP: '192.168.0.9' }), false],
];

describe('enforceable pods: model, aggregation and report agree', () => {
  const selectAll = policy('a', 'all', {});
  for (const [name, pod, want] of cases) {
    it(`${name}: ${want ? 'enforced' : 'not enforced'} by all three`, () => {
      const model = buildNodeModel({ node: NODE, namespaces: [], pods: [pod], policies: [selectAll] });
      const aggregated = aggregateEnforcement({
        policies: [selectAll],
        pods: [pod],
        reports: [],
        now: new Date(),
        selects: () => true,
      });
      const counted = countEnforceablePodsOn([pod], NODE);
      const got = { model: model.pods.length, aggregation: aggregated.status.nodes, report: counted };
      const n = want ? 1 : 0;
      expect(got).to.deep.equal({ model: n, aggregation: n, report: n });
    });
  }

  it('the report counts only the pods of its own node', () => {
    const pods = cases.map(([, p]) => p);
    const elsewhere = podWith('other', { nodeName: 'node-b' }, { phase: 'Running', podIP: '10.0.1.1' });
    expect(countEnforceablePodsOn([...pods, elsewhere], NODE)).to.equal(cases.filter(([, , w]) => w).length);
  });
});
