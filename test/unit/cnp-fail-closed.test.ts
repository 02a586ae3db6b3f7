// ClusterNetworkPolicies and the fail-closed guard: a pod that only a ClusterNetworkPolicy
// governs arms the guard like one a NetworkPolicy isolates (per direction, by the subject's
// namespace and pod selectors), and the guard's jump stays the last rule of STN-FORWARD when the
// tiers are rendered.
import { expect } from 'chai';
import type { Pod } from '../../operator/api/networkpolicy.js';
import {
  AwaitingPods,
  NEW_POD_CHAIN,
  NewPodGuard,
  parsePodCidrs,
} from '../../operator/dataplane/fail-closed.js';
import { TOP_CHAIN } from '../../operator/dataplane/names.js';
import { renderNode } from '../../operator/dataplane/render-node.js';
import type { ClusterObjects } from '../../operator/netpol/types.js';
import { cnp } from './cnp-fixtures.js';
import { NODE, ns, pod } from './netpol-fixtures.js';

const waiting = (namespace: string, name: string, labels: Record<string, string>): Pod =>
  pod(namespace, name, { labels });

function cluster(pods: Pod[]): ClusterObjects {
  return {
    namespaces: [ns('iso', { tenant: 'a' }), ns('open')],
    pods,
    policies: [],
    clusterNetworkPolicies: [
      cnp('deny-in', 'Admin', 10, {
        subject: { namespaces: { matchLabels: { tenant: 'a' } } },
        ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }],
      }),
      cnp('web-out', 'Baseline', 10, {
        subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: 'web' } } } },
        egress: [{ action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }] }],
      }),
    ],
  };
}

describe('ClusterNetworkPolicy and the fail-closed guard', () => {
  it('arms per direction for pods awaiting an address that a ClusterNetworkPolicy subject selects', () => {
    const found = new AwaitingPods(NODE).find(
      cluster([
        waiting('iso', 'db', { role: 'db' }),
        waiting('open', 'web', { role: 'web' }),
        waiting('open', 'other', { role: 'cache' }),
      ]),
    );
    expect(found).to.deep.equal({ ingress: ['iso/db'], egress: ['open/web'] });
  });

  it('does not arm for a pod no subject selects', () => {
    const found = new AwaitingPods(NODE).find(cluster([waiting('open', 'other', { role: 'cache' })]));
    expect(found).to.deep.equal({ ingress: [], egress: [] });
  });

  it('keeps the guard jump last in STN-FORWARD, after the tiered dispatch', () => {
    const objects = cluster([
      pod('iso', 'db', { labels: { role: 'db' }, ip: '10.244.1.5' }),
      waiting('iso', 'db-2', { role: 'db' }),
    ]);
    const guard = new NewPodGuard(NODE, 'on', parsePodCidrs(['10.244.1.0/24']));
    const out = guard.apply(renderNode(objects, NODE), objects);
    expect(out.armed).to.deep.equal({ ingress: true, egress: false });
    const top = out.ruleset.chains.find((c) => c.name === TOP_CHAIN)?.rules ?? [];
    expect(top[top.length - 1]).to.equal(`-j ${NEW_POD_CHAIN}`);
    expect(
      top.some((r) => / -j STN-GI-/.test(r)),
      'a tiered ingress group',
    ).to.equal(true);
  });
});
