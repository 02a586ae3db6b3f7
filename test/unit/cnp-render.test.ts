// The shape of the tiered render (operator/dataplane/cnp-render.ts): without ClusterNetworkPolicies
// the NetworkPolicy render is untouched; with them only the pods a subject selects move to
// tiered groups (the others keep their NetworkPolicy group), both families get the same chains,
// IPv6 addresses land in IPv6 sets only, and the node report lists programmable policies only.
import { expect } from 'chai';
import { TOP_CHAIN } from '../../operator/dataplane/names.js';
import {
  programmedClusterNetworkPolicies,
  withClusterNetworkPolicies,
} from '../../operator/dataplane/cnp-render.js';
import { renderNode } from '../../operator/dataplane/render-node.js';
import { renderIpsetRestore, renderIptablesRestore } from '../../operator/dataplane/render-text.js';
import type { ClusterObjects } from '../../operator/netpol/types.js';
import { cnp } from './cnp-fixtures.js';
import { NODE, ns, pod, policy } from './netpol-fixtures.js';
import { RulesetSimulator } from './render-sim.js';

function cluster(): ClusterObjects {
  return {
    namespaces: [ns('a', { tenant: 'a' }), ns('b', { tenant: 'b' })],
    pods: [
      pod('a', 'db', { labels: { role: 'db' }, ip: '10.0.0.1', ip2: 'fd00::1' }),
      pod('a', 'db-2', { labels: { role: 'db' }, ip: '10.0.0.2', ip2: 'fd00::2' }),
      pod('b', 'web', { labels: { role: 'web' }, ip: '10.0.1.1', ip2: 'fd00:1::1' }),
    ],
    policies: [policy('a', 'db-in', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{}] })],
  };
}

const denyB = cnp('deny-b', 'Admin', 10, {
  subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { role: 'db' } } } },
  ingress: [{ action: 'Deny', from: [{ namespaces: { matchLabels: { tenant: 'b' } } }] }],
});

describe('ClusterNetworkPolicy render: shape', () => {
  it('returns the NetworkPolicy render itself when the cluster has no ClusterNetworkPolicy', () => {
    const objects = cluster();
    const base = renderNode(objects, NODE);
    expect(withClusterNetworkPolicies(base, { ...objects, clusterNetworkPolicies: [] }, NODE)).to.equal(base);
    expect(base.cnp).to.equal(undefined);
  });

  it('moves only the selected pods to a tiered group; the rest keep their NetworkPolicy group', () => {
    const objects = cluster();
    const base = renderNode(objects, NODE);
    // db-2 gets a label that keeps the NetworkPolicy's selection but leaves the subject's.
    objects.pods[1].metadata.labels = { role: 'db', tier: 'x' };
    const onlyDb = cnp('deny-b-db', 'Admin', 10, {
      subject: {
        pods: {
          namespaceSelector: {},
          podSelector: {
            matchLabels: { role: 'db' },
            matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }],
          },
        },
      },
      ingress: denyB.spec.ingress,
    });
    const out = renderNode({ ...objects, clusterNetworkPolicies: [onlyDb] }, NODE);
    const npGroup = base.ruleset.ipsets.find((s) => s.name.startsWith('stn-i-'));
    expect(npGroup?.entries).to.deep.equal(['10.0.0.1', '10.0.0.2']);
    // db-in selects db and db-2, but only db is a subject: db-2 stays in a NetworkPolicy group
    // (the same policy list, so the same names as before).
    const kept = out.ruleset.ipsets.find((s) => s.name === npGroup?.name);
    expect(kept?.entries).to.deep.equal(['10.0.0.2']);
    const tiered = out.ruleset.ipsets.filter((s) => s.name.startsWith('stn-g-'));
    expect(tiered.map((s) => s.entries)).to.deep.equal([['10.0.0.1']]);
    const tiered6 = out.ruleset6.ipsets.filter((s) => s.name.startsWith('stn-g6-'));
    expect(tiered6.map((s) => s.entries)).to.deep.equal([['fd00::1']]);
    expect(out.ruleset6.chains.map((c) => c.name)).to.deep.equal(out.ruleset.chains.map((c) => c.name));
    const top = out.ruleset.chains.find((c) => c.name === TOP_CHAIN)?.rules ?? [];
    expect(top.filter((r) => r.startsWith('-m set')).length, 'one dispatch rule per group').to.equal(2);
  });

  it('denies over IPv6 as over IPv4, and the restore texts carry the new chains and sets', () => {
    const objects = { ...cluster(), clusterNetworkPolicies: [denyB] };
    const out = renderNode(objects, NODE);
    const sim6 = new RulesetSimulator(out.ruleset6);
    expect(sim6.forward({ src: 'fd00:1::1', dst: 'fd00::1', protocol: 'TCP', port: 80 }).verdict).to.equal(
      'DROP',
    );
    expect(sim6.forward({ src: 'fd00:9::9', dst: 'fd00::1', protocol: 'TCP', port: 80 }).verdict).to.equal(
      'ACCEPT',
    );
    const sim4 = new RulesetSimulator(out.ruleset);
    // Deny drops (the API: "Drops the selected traffic"), over UDP as over TCP: no ICMP error.
    expect(sim4.forward({ src: '10.0.1.1', dst: '10.0.0.2', protocol: 'UDP', port: 53 }).verdict).to.equal(
      'DROP',
    );
    expect(sim6.forward({ src: 'fd00:1::1', dst: 'fd00::2', protocol: 'UDP', port: 53 }).verdict).to.equal(
      'DROP',
    );
    const text = renderIptablesRestore(out.ruleset6);
    expect(text).to.include(':STN-CNP-DENY - [0:0]').and.include(':STN-CNP-PASS - [0:0]');
    expect(renderIpsetRestore(out.ruleset, out.ruleset6)).to.match(/create stn-g6-\S+ hash:ip family inet6/);
  });

  it('reports programmable policies by UID and generation, and not-programmable ones as errors only', () => {
    const toNodes = cnp('to-nodes', 'Admin', 5, {
      subject: { namespaces: {} },
      egress: [{ action: 'Deny', to: [{ nodes: {} }] }],
    });
    const out = renderNode({ ...cluster(), clusterNetworkPolicies: [denyB, toNodes] }, NODE);
    expect(programmedClusterNetworkPolicies(out)).to.deep.equal([
      { name: 'deny-b', uid: 'uid-deny-b', generation: 1 },
    ]);
    expect(out.problems).to.have.length(1);
    expect(out.problems[0]).to.include({
      kind: 'ClusterNetworkPolicy',
      namespace: '',
      name: 'to-nodes',
      reason: 'NotProgrammable',
    });
    // Fail closed: the Deny with an unusable peer denies all egress of the subjects.
    const sim = new RulesetSimulator(out.ruleset);
    expect(sim.forward({ src: '10.0.0.1', dst: '192.0.2.1', protocol: 'TCP', port: 443 }).verdict).to.equal(
      'DROP',
    );
  });
});
