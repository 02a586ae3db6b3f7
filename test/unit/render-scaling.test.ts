// Rule count grows with policies x rules x ports, not with pods: more peer pods or more local
// pods only add set entries.
import { expect } from 'chai';
import type { Pod } from '../../operator/api/networkpolicy.js';
import { countIpsetEntries, countRules, renderRuleset } from '../../operator/dataplane/render.js';
import { renderNaiveRuleset } from '../support/render-naive.js';
import { model, ns, pod, policy } from './netpol-fixtures.js';

const policies = [
  policy('app', 'db-ingress', {
    podSelector: { matchLabels: { app: 'db' } },
    ingress: [
      {
        from: [
          { podSelector: { matchLabels: { app: 'web' } } },
          { namespaceSelector: { matchLabels: { team: 'ops' } } },
        ],
        ports: [{ port: 5432 }, { port: 'metrics' }],
      },
    ],
  }),
  policy('app', 'web-egress', {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Egress'],
    egress: [
      { to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432 }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] },
    ],
  }),
];

function ip(i: number): string {
  return `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

function cluster(localDb: number, localWeb: number, remoteWeb: number): Pod[] {
  const out: Pod[] = [];
  let n = 1;
  for (let i = 0; i < localDb; i++)
    out.push(
      pod('app', `db-${i}`, {
        ip: ip(n++),
        labels: { app: 'db' },
        ports: [{ name: 'metrics', containerPort: 9187 }],
      }),
    );
  for (let i = 0; i < localWeb; i++)
    out.push(pod('app', `web-${i}`, { ip: ip(n++), labels: { app: 'web' } }));
  for (let i = 0; i < remoteWeb; i++)
    out.push(pod('app', `rweb-${i}`, { ip: ip(n++), labels: { app: 'web' }, node: 'node-b' }));
  return out;
}

function figures(
  pods: Pod[],
  withNaive = false,
): { rules: number; chains: number; entries: number; naive: number } {
  const m = model({ namespaces: [ns('app'), ns('ops', { team: 'ops' })], pods, policies });
  const rs = renderRuleset(m);
  return {
    rules: countRules(rs),
    chains: rs.chains.length,
    entries: countIpsetEntries(rs),
    naive: withNaive ? countRules(renderNaiveRuleset(m)) : 0,
  };
}

describe('render: scaling', () => {
  it('10 vs 1000 peer pods: same rules and chains, more set entries', () => {
    const small = figures(cluster(1, 1, 10), true);
    const large = figures(cluster(1, 1, 1000), true);
    expect(large.rules).to.equal(small.rules);
    expect(large.chains).to.equal(small.chains);
    // 990 more web pods: once in db-ingress's peer set.
    expect(large.entries - small.entries).to.equal(990);
    // The naive render pays one rule per peer pod and port.
    expect(large.naive - small.naive).to.be.at.least(990);
  });

  it('5 vs 500 local pods of the same kind: same rules and chains', () => {
    const small = figures(cluster(5, 5, 10));
    const large = figures(cluster(500, 500, 10));
    expect(large.rules).to.equal(small.rules);
    expect(large.chains).to.equal(small.chains);
    expect(large.entries).to.be.greaterThan(small.entries);
  });
});
