// Properties of the rendered ruleset that hold for every cluster: ownership (prefixes, lengths,
// comments on hooks), where the hook is, conntrack handling (semantics case 6), node traffic
// (case 18), no ACCEPT, determinism, and chains only for policies that select a local pod.
import { expect } from 'chai';
import {
  ALLOW_MARK,
  HOOK_COMMENT_PREFIX,
  MAX_CHAIN_NAME,
  MAX_RENDERED_IPSET_NAME,
  TOP_CHAIN,
  policyChainName,
} from '../../operator/dataplane/names.js';
import { renderRuleset } from '../../operator/dataplane/render.js';
import { renderIpsetRestore, renderIptablesRestore } from '../../operator/dataplane/render-text.js';
import { model, pod, policy } from './netpol-fixtures.js';
import { randomCluster, seeded } from './render-random-cluster.js';
import { RulesetSimulator } from './render-sim.js';

const pods = [
  pod('a', 'db', { ip: '10.0.1.2', labels: { app: 'db' } }),
  pod('a', 'web', { ip: '10.0.1.3', labels: { app: 'web' } }),
  pod('a', 'remote', { ip: '10.0.2.2', labels: { app: 'db' }, node: 'node-b' }),
];
const closedDb = policy('a', 'db-closed', {
  podSelector: { matchLabels: { app: 'db' } },
  policyTypes: ['Ingress', 'Egress'],
});

describe('render: structure', () => {
  it('hooks only FORWARD, once, identified by its comment (node traffic via INPUT/OUTPUT is untouched)', () => {
    const rs = renderRuleset(model({ pods, policies: [closedDb] }));
    expect(rs.hooks).to.have.length(1);
    expect(rs.hooks[0]?.builtin).to.equal('FORWARD');
    expect(rs.hooks[0]?.rule).to.match(
      new RegExp(`^-m comment --comment "${HOOK_COMMENT_PREFIX} [^"]+" -j ${TOP_CHAIN}$`),
    );
  });

  it('6. replies pass first; INVALID packets of isolated pods are dropped, other pods untouched', () => {
    const rs = renderRuleset(model({ pods, policies: [closedDb] }));
    expect(rs.chains[0]?.name).to.equal(TOP_CHAIN);
    expect(rs.chains[0]?.rules[0]).to.equal('-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN');
    const sim = new RulesetSimulator(rs);
    expect(sim.forward({ src: '10.0.1.3', dst: '10.0.1.2', protocol: 'TCP', port: 5432 }).verdict).to.equal(
      'REJECT',
    );
    expect(
      sim.forward({ src: '10.0.1.3', dst: '10.0.1.2', protocol: 'TCP', port: 5432, state: 'ESTABLISHED' })
        .verdict,
    ).to.equal('ACCEPT');
    expect(
      sim.forward({ src: '10.0.1.2', dst: '10.0.1.3', protocol: 'UDP', port: 1, state: 'RELATED' }).verdict,
    ).to.equal('ACCEPT');
    expect(
      sim.forward({ src: '10.0.1.3', dst: '10.0.1.2', protocol: 'TCP', port: 1, state: 'INVALID' }).verdict,
    ).to.equal('DROP');
    expect(
      sim.forward({ src: '10.0.9.9', dst: '10.0.1.3', protocol: 'TCP', port: 1, state: 'INVALID' }).verdict,
    ).to.equal('ACCEPT');
  });

  it('a mark bit set by someone else is not taken for an allow', () => {
    const sim = new RulesetSimulator(renderRuleset(model({ pods, policies: [closedDb] })));
    expect(
      sim.forward({ src: '10.0.1.3', dst: '10.0.1.2', protocol: 'TCP', port: 1, mark: ALLOW_MARK }).verdict,
    ).to.equal('REJECT');
  });

  it('jumps only to policy chains that can allow, and past the first only while nothing allowed yet', () => {
    const deny = policy('a', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] });
    const fromWeb = (name: string, port: number) =>
      policy('a', name, {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port }] }],
      });
    const rs = renderRuleset(
      model({ pods, policies: [deny, fromWeb('db-5432', 5432), fromWeb('db-6379', 6379)] }),
    );
    const group = rs.chains.find(
      (c) => c.name.startsWith('STN-I-') && c.rules.some((r) => r.includes('a/db-5432')),
    );
    const denyChain = policyChainName('ingress', 'a/deny-all');
    // The default-deny policy has a chain, empty: it allows nothing, so nothing jumps to it.
    expect(rs.chains.find((c) => c.name === denyChain)?.rules).to.deep.equal([]);
    expect(group?.rules.filter((r) => r.includes(denyChain))).to.deep.equal([]);
    expect(group?.rules.slice(2)).to.deep.equal([
      `-m comment --comment "ingress a/db-5432" -j ${policyChainName('ingress', 'a/db-5432')}`,
      `-m mark --mark 0x0/0x1000000 -m comment --comment "ingress a/db-6379" -j ${policyChainName('ingress', 'a/db-6379')}`,
      '-m mark --mark 0x1000000/0x1000000 -g STN-PASS',
      '-p tcp -j REJECT --reject-with tcp-reset',
      '-j REJECT --reject-with icmp-port-unreachable',
    ]);
    const sim = new RulesetSimulator(rs);
    const fate = (port: number): string =>
      sim.forward({ src: '10.0.1.3', dst: '10.0.1.2', protocol: 'TCP', port }).verdict;
    expect([fate(5432), fate(6379), fate(80)]).to.deep.equal(['ACCEPT', 'ACCEPT', 'REJECT']);
    // web is isolated by deny-all alone: a group chain with no jump, only the REJECT.
    expect(sim.forward({ src: '10.0.1.2', dst: '10.0.1.3', protocol: 'TCP', port: 80 }).verdict).to.equal(
      'REJECT',
    );
  });

  it('IPv6: neighbour solicitation and advertisement pass isolation at hop limit 255; router messages do not', () => {
    const v6pods = [
      pod('a', 'db', { ip: '10.0.1.2', ip2: 'fd00::2', labels: { app: 'db' } }),
      pod('a', 'web', { ip: '10.0.1.3', ip2: 'fd00::3', labels: { app: 'web' } }),
    ];
    const closedAll = policy('a', 'closed', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const rs6 = renderRuleset(model({ pods: v6pods, policies: [closedAll] }), 6);
    const sim = new RulesetSimulator(rs6);
    const icmp6 = (src: string, dst: string, icmpType: number, hopLimit: number): string =>
      sim.forward({ src, dst, protocol: 'ICMPv6', icmpType, hopLimit, port: 0 }).verdict;
    // Address resolution (to the solicited-node group) and its answer, between two isolated pods.
    expect(icmp6('fd00::3', 'ff02::1:ff00:2', 135, 255)).to.equal('ACCEPT');
    expect(icmp6('fd00::2', 'fd00::3', 136, 255)).to.equal('ACCEPT');
    // Reachability confirmation (unicast solicitation).
    expect(icmp6('fd00::3', 'fd00::2', 135, 255)).to.equal('ACCEPT');
    // Not from this link (a router decremented the hop limit): isolation applies.
    expect(icmp6('fd00::3', 'fd00::2', 135, 254)).to.equal('REJECT');
    // Router solicitation and advertisement with a pod's address can only be forged.
    expect(icmp6('fd00::3', 'fd00::2', 133, 255)).to.equal('REJECT');
    expect(icmp6('fe80::3', 'fd00::2', 134, 255)).to.equal('REJECT');
    // Echo between isolated pods stays denied.
    expect(icmp6('fd00::3', 'fd00::2', 128, 255)).to.equal('REJECT');
    // The IPv4 ruleset has no ICMPv6 rule at all.
    const rs4 = renderRuleset(model({ pods: v6pods, policies: [closedAll] }), 4);
    expect(rs4.chains.flatMap((c) => c.rules).filter((r) => r.includes('icmp6'))).to.deep.equal([]);
  });

  it('never ACCEPTs: allowed traffic returns to FORWARD so other tools’ rules still apply', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rs = renderRuleset(model(randomCluster(seeded(seed))));
      for (const c of rs.chains) for (const r of c.rules) expect(r).not.to.match(/-j ACCEPT\b/);
    }
  });

  it('owns its names: STN- chains within 28 characters, stn- sets within 22', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rs = renderRuleset(model(randomCluster(seeded(seed))));
      for (const c of rs.chains) {
        expect(c.name).to.match(/^STN-/);
        expect(c.name.length).to.be.at.most(MAX_CHAIN_NAME);
      }
      for (const s of rs.ipsets) {
        expect(s.name).to.match(/^stn-/);
        expect(s.name.length).to.be.at.most(MAX_RENDERED_IPSET_NAME);
      }
      // Every set a rule names exists and every set is used; every chain a rule jumps to exists.
      const sets = new Set(rs.ipsets.map((s) => s.name));
      const chains = new Set(rs.chains.map((c) => c.name));
      const used = new Set<string>();
      for (const c of rs.chains) {
        for (const r of c.rules) {
          for (const m of r.matchAll(/--match-set (\S+)/g)) {
            expect(sets.has(m[1]), m[1]).to.equal(true);
            used.add(m[1]);
          }
          for (const m of r.matchAll(/-[jg] (STN-\S+)/g)) expect(chains.has(m[1]), m[1]).to.equal(true);
        }
      }
      expect([...sets].filter((s) => !used.has(s))).to.deep.equal([]);
    }
  });

  it('has chains only for policies that select a pod of this node', () => {
    const remoteOnly = policy('a', 'remote-only', {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{}],
    });
    const rsA = renderRuleset(
      model({ pods: pods.filter((p) => p.metadata.name !== 'db'), policies: [remoteOnly] }),
    );
    expect(rsA.chains.map((c) => c.name)).to.not.include(policyChainName('ingress', 'a/remote-only'));
    const rsB = renderRuleset(model({ pods, policies: [remoteOnly], node: 'node-b' }));
    expect(rsB.chains.map((c) => c.name)).to.include(policyChainName('ingress', 'a/remote-only'));
  });

  it('is deterministic: same cluster in any order gives byte-identical text', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = randomCluster(seeded(seed));
      const a = renderRuleset(model(c));
      const b = renderRuleset(
        model({
          namespaces: [...(c.namespaces ?? [])].reverse(),
          pods: [...(c.pods ?? [])].reverse(),
          policies: [...(c.policies ?? [])].reverse(),
        }),
      );
      expect(renderIptablesRestore(b)).to.equal(renderIptablesRestore(a));
      expect(renderIpsetRestore(b)).to.equal(renderIpsetRestore(a));
    }
  });

  it('restore text: chains declared before rules, hook inserted, one COMMIT; hooks can be left out', () => {
    const rs = renderRuleset(model({ pods, policies: [closedDb] }));
    const lines = renderIptablesRestore(rs).trimEnd().split('\n');
    expect(lines[0]).to.equal('*filter');
    expect(lines.at(-1)).to.equal('COMMIT');
    const firstRule = lines.findIndex((l) => l.startsWith('-A '));
    expect(lines.slice(1, firstRule).every((l) => /^:STN-\S+ - \[0:0\]$/.test(l))).to.equal(true);
    expect(lines.filter((l) => l.startsWith('-I FORWARD '))).to.have.length(1);
    expect(renderIptablesRestore(rs, { hooks: false })).not.to.contain('-I FORWARD');
    expect(renderIpsetRestore(rs).split('\n')[0]).to.match(/^create stn-\S+ hash:ip family inet /);
  });
});
