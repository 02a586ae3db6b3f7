import { expect } from 'chai';
import type { BuiltinChain } from '../../operator/dataplane/apply-ownership.js';
import { RulesetError, validateRuleset } from '../../operator/dataplane/apply-ownership.js';
import type { CurrentState, ProgrammedRule } from '../../operator/dataplane/apply-plan.js';
import { isEmptyPlan, planApply, tempSetName } from '../../operator/dataplane/apply-plan.js';
import type { Ruleset } from '../../operator/dataplane/types.js';

const hook = '-m comment --comment "softtenant: x" -j STN-TOP';
const same = (r: string): string => r;

function desired(over: Partial<Ruleset> = {}): Ruleset {
  return {
    family: 4,
    ipsets: [{ name: 'stn-peers', type: 'hash:ip', entries: ['10.0.0.2', '10.0.0.1'] }],
    chains: [
      { name: 'STN-TOP', rules: ['-j STN-POD'] },
      { name: 'STN-POD', rules: ['-m set --match-set stn-peers src -j RETURN', '-j REJECT'] },
    ],
    hooks: [{ builtin: 'FORWARD', rule: hook }],
    ...over,
  };
}

/** The state a previous apply of `rs` left (what an incremental apply diffs against). */
function stateOf(rs: Ruleset, maxelem = 262144): CurrentState {
  const hooks = new Map<BuiltinChain, ProgrammedRule[]>();
  for (const h of rs.hooks)
    hooks.set(h.builtin, [...(hooks.get(h.builtin) ?? []), { text: h.rule, key: h.rule }]);
  return {
    sets: new Map(rs.ipsets.map((s) => [s.name, { type: s.type, maxelem, entries: new Set(s.entries) }])),
    chains: new Map(rs.chains.map((c) => [c.name, [...c.rules]])),
    hooks,
  };
}

const empty: CurrentState = { sets: new Map(), chains: new Map(), hooks: new Map() };

describe('dataplane apply plan', () => {
  it('creates everything on an empty node: sets first, then one restore with chains and the hook', () => {
    const p = planApply(desired(), empty, same);
    expect(p.ipset).to.deep.equal([
      'create stn-peers hash:ip family inet hashsize 1024 maxelem 262144',
      'add stn-peers 10.0.0.1',
      'add stn-peers 10.0.0.2',
    ]);
    expect(p.iptables).to.deep.equal([
      '*filter',
      ':STN-TOP - [0:0]',
      ':STN-POD - [0:0]',
      '-A STN-TOP -j STN-POD',
      '-A STN-POD -m set --match-set stn-peers src -j RETURN',
      '-A STN-POD -j REJECT',
      `-I FORWARD 1 ${hook}`,
      'COMMIT',
    ]);
    expect(p.iptablesOwner[4]).to.equal('chain STN-POD');
    expect(p.chainsCreated).to.deep.equal(['STN-TOP', 'STN-POD']);
  });

  it('plans nothing when nothing changed', () => {
    expect(isEmptyPlan(planApply(desired(), stateOf(desired()), same))).to.equal(true);
  });

  it('rewrites only a changed chain, never naming a built-in chain or a foreign rule', () => {
    const next = desired({ chains: [desired().chains[0], { name: 'STN-POD', rules: ['-j RETURN'] }] });
    const p = planApply(next, stateOf(desired()), same);
    expect(p.iptables).to.deep.equal(['*filter', ':STN-POD - [0:0]', '-A STN-POD -j RETURN', 'COMMIT']);
    expect(p.chainsRewritten).to.deep.equal(['STN-POD']);
    expect(p.ipset).to.deep.equal([]);
  });

  it('deletes stale chains last, after the chains and hooks that referred to them', () => {
    const next: Ruleset = {
      family: 4,
      ipsets: [],
      chains: [{ name: 'STN-TOP2', rules: ['-j RETURN'] }],
      hooks: [{ builtin: 'FORWARD', rule: '-m comment --comment "softtenant: x" -j STN-TOP2' }],
    };
    const p = planApply(next, stateOf(desired()), same);
    expect(p.iptables).to.deep.equal([
      '*filter',
      ':STN-TOP2 - [0:0]',
      ':STN-POD - [0:0]',
      ':STN-TOP - [0:0]',
      '-A STN-TOP2 -j RETURN',
      `-D FORWARD ${hook}`,
      '-I FORWARD 1 -m comment --comment "softtenant: x" -j STN-TOP2',
      '-X STN-POD',
      '-X STN-TOP',
      'COMMIT',
    ]);
    expect(p.destroySets).to.deep.equal(['stn-peers']);
  });

  it('keeps one copy of each hook, in order, at the top: duplicates and missing ones are redone', () => {
    const two: Ruleset = desired({
      hooks: [
        { builtin: 'FORWARD', rule: hook },
        { builtin: 'FORWARD', rule: '-m comment --comment "softtenant: y" -j STN-POD' },
      ],
    });
    const dup = stateOf(two);
    dup.hooks.set('FORWARD', [...(dup.hooks.get('FORWARD') ?? []), { text: hook, key: hook }]);
    const p = planApply(two, dup, same);
    expect(p.hooksRewritten).to.deep.equal(['FORWARD']);
    expect(p.iptables.filter((l) => l.startsWith('-D') || l.startsWith('-I'))).to.deep.equal([
      `-D FORWARD ${hook}`,
      '-D FORWARD -m comment --comment "softtenant: y" -j STN-POD',
      `-D FORWARD ${hook}`,
      '-I FORWARD 1 -m comment --comment "softtenant: y" -j STN-POD',
      `-I FORWARD 1 ${hook}`,
    ]);
    const missing = stateOf(two);
    missing.hooks.set('FORWARD', []);
    expect(planApply(two, missing, same).iptables.filter((l) => l.startsWith('-I'))).to.have.length(2);
  });

  it('changes a few members by deltas: additions first, excepts before their networks', () => {
    const netSet = (entries: string[]): Ruleset =>
      desired({ ipsets: [...desired().ipsets, { name: 'stn-nets', type: 'hash:net', entries }] });
    const before = netSet(['10.1.0.0/16']);
    const p = planApply(
      netSet(['10.1.0.0/16', '172.17.0.0/16', '172.17.1.0/24 nomatch']),
      stateOf(before),
      same,
    );
    expect(p.ipset).to.deep.equal(['add stn-nets 172.17.1.0/24 nomatch', 'add stn-nets 172.17.0.0/16']);
    const back = planApply(
      before,
      stateOf(netSet(['10.1.0.0/16', '172.17.0.0/16', '172.17.1.0/24 nomatch'])),
      same,
    );
    expect(back.ipset).to.deep.equal(['del stn-nets 172.17.0.0/16', 'del stn-nets 172.17.1.0/24']);
    const repl = planApply(
      desired({ ipsets: [{ name: 'stn-peers', type: 'hash:ip', entries: ['10.0.0.1', '10.0.0.3'] }] }),
      stateOf(desired()),
      same,
    );
    expect(repl.ipset).to.deep.equal(['add stn-peers 10.0.0.3', 'del stn-peers 10.0.0.2']);
    expect(repl.sets).to.deep.equal([{ name: 'stn-peers', how: 'delta', added: 1, removed: 1 }]);
  });

  it('swaps when an entry flips between match and nomatch, when the set is too small, or when most of it changes', () => {
    const nets = (entries: string[]): Ruleset =>
      desired({
        ipsets: [
          { name: 'stn-peers', type: 'hash:ip', entries: ['10.0.0.1'] },
          { name: 'stn-nets', type: 'hash:net', entries },
        ],
      });
    const tmp = tempSetName('stn-nets');
    const flip = planApply(
      nets(['172.17.0.0/16', '172.17.1.0/24']),
      stateOf(nets(['172.17.0.0/16', '172.17.1.0/24 nomatch'])),
      same,
    );
    expect(flip.ipset).to.deep.equal([
      `create ${tmp} hash:net family inet hashsize 1024 maxelem 262144`,
      `add ${tmp} 172.17.0.0/16`,
      `add ${tmp} 172.17.1.0/24`,
      `swap ${tmp} stn-nets`,
      `destroy ${tmp}`,
    ]);
    const small = planApply(
      desired(),
      stateOf(desired({ ipsets: [{ name: 'stn-peers', type: 'hash:ip', entries: ['10.0.0.1'] }] }), 1),
      same,
    );
    expect(small.sets[0]?.how).to.equal('swap');
    const many = Array.from({ length: 100 }, (_, i) => `10.2.0.${i + 1}`);
    const big = planApply(
      desired({ ipsets: [{ name: 'stn-peers', type: 'hash:ip', entries: many }] }),
      stateOf(desired()),
      same,
    );
    expect(big.sets[0]).to.include({ how: 'swap', added: 100, removed: 2 });
  });

  it('recreates a set whose type changed, and destroys leftovers of an interrupted swap first', () => {
    const cur = stateOf(desired());
    cur.sets.set('stn-peers', { type: 'hash:net', maxelem: 262144, entries: new Set(['10.0.0.0/24']) });
    cur.sets.set('stn-tmp-0badf00d', { type: 'hash:ip', maxelem: 262144, entries: new Set() });
    const p = planApply(desired(), cur, same);
    expect(p.ipset.slice(0, 3)).to.deep.equal([
      'destroy stn-tmp-0badf00d',
      'destroy stn-peers',
      'create stn-peers hash:ip family inet hashsize 1024 maxelem 262144',
    ]);
    expect(p.destroySets).to.deep.equal([]);
  });

  it('compares entries in one spelling (a /32 is an address; host bits are cleared)', () => {
    const rs = desired({
      ipsets: [{ name: 'stn-peers', type: 'hash:net', entries: ['10.0.0.5/32', '172.17.1.9/24 nomatch'] }],
    });
    const cur = stateOf(desired());
    cur.sets.set('stn-peers', {
      type: 'hash:net',
      maxelem: 262144,
      entries: new Set(['10.0.0.5/32', '172.17.1.0/24 nomatch']),
    });
    expect(planApply(rs, cur, same).ipset).to.deep.equal([]);
    expect(() =>
      planApply(
        desired({ ipsets: [{ name: 'stn-peers', type: 'hash:ip', entries: ['10.0.0.300'] }] }),
        empty,
        same,
      ),
    ).to.throw(RulesetError, /stn-peers.*10\.0\.0\.300/);
  });
});

describe('dataplane ruleset validation', () => {
  it('accepts a well-formed ruleset', () => {
    expect(() => validateRuleset(desired())).not.to.throw();
  });
  it('refuses what the agent would not own or could not clean up', () => {
    const bad: [Partial<Ruleset>, RegExp][] = [
      [{ chains: [{ name: 'KUBE-X', rules: [] }] }, /KUBE-X: not an agent chain/],
      [{ chains: [{ name: 'STN-ABCDEFGHIJKLMNOPQRSTUVWXYZ', rules: [] }] }, /longer than 28/],
      [{ ipsets: [{ name: 'peers', type: 'hash:ip', entries: [] }] }, /peers: not an agent set/],
      [{ ipsets: [{ name: 'stn-tmp-1', type: 'hash:ip', entries: [] }] }, /not an agent set name/],
      [{ hooks: [{ builtin: 'FORWARD', rule: '-j ACCEPT' }] }, /must jump to an STN- chain/],
      [{ hooks: [{ builtin: 'FORWARD', rule: '-j STN-NOPE' }] }, /does not define/],
      [{ chains: [{ name: 'STN-TOP', rules: ['-j STN-GONE'] }] }, /undefined STN-GONE/],
      [
        { chains: [{ name: 'STN-TOP', rules: ['-m set --match-set stn-gone src -j RETURN'] }], hooks: [] },
        /undefined ipset stn-gone/,
      ],
      [{ chains: [{ name: 'STN-TOP', rules: ['-A STN-TOP -j RETURN'] }], hooks: [] }, /without -A/],
    ];
    for (const [over, re] of bad)
      expect(() => validateRuleset(desired(over)), String(re)).to.throw(RulesetError, re);
  });
});
