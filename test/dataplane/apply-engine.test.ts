// The apply edge against real iptables and ipset, with hand-written rulesets, inside a scratch
// network namespace per test (never the root namespace). Run on both backends.
import { expect } from 'chai';
import { ApplyError, RulesetApplier } from '../../operator/dataplane/apply.js';
import type { IptablesBackend } from '../../operator/dataplane/backend.js';
import { detectBackend, toolsFor } from '../../operator/dataplane/backend.js';
import { cleanupAgentState } from '../../operator/dataplane/cleanup.js';
import type { Runner } from '../../operator/dataplane/runner.js';
import type { Ruleset } from '../../operator/dataplane/types.js';
import { foreignLines } from '../support/lab-cluster.js';
import { scratchNetns, sh } from '../support/lab.js';

const hook = '-m comment --comment "softtenant: test hook" -j STN-T-TOP';

interface Shape {
  members?: string[];
  nets?: string[];
  podRules?: string[];
  withPod?: boolean;
  topExtra?: string[];
}

function ruleset(shape: Shape = {}): Ruleset {
  const withPod = shape.withPod ?? true;
  return {
    family: 4,
    ipsets: [
      { name: 'stn-t-peers', type: 'hash:ip', entries: shape.members ?? ['10.9.1.1', '10.9.1.2'] },
      ...(withPod
        ? [
            {
              name: 'stn-t-nets',
              type: 'hash:net' as const,
              entries: shape.nets ?? ['172.17.0.0/16', '172.17.1.0/24 nomatch'],
            },
          ]
        : []),
    ],
    chains: [
      {
        name: 'STN-T-TOP',
        rules: [
          '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
          ...(withPod ? ['-d 10.9.0.0/24 -j STN-T-POD'] : ['-m set --match-set stn-t-peers dst -j REJECT']),
          ...(shape.topExtra ?? []),
        ],
      },
      ...(withPod
        ? [
            {
              name: 'STN-T-POD',
              // Spelled the way a person would, not the way iptables-save prints it.
              rules: shape.podRules ?? [
                '-p tcp --dport 6379 -m set --match-set stn-t-peers src -j RETURN',
                '-m set --match-set stn-t-nets src -j RETURN',
                '-j REJECT',
              ],
            },
          ]
        : []),
    ],
    hooks: [{ builtin: 'FORWARD', rule: hook }],
  };
}

async function save(runner: Runner, backend: IptablesBackend): Promise<string> {
  return sh(runner, `${toolsFor(backend).save} -t filter`);
}

function chainLines(text: string, chain: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
}

async function setEntries(runner: Runner, name: string): Promise<string[]> {
  const out = await sh(runner, `ipset list ${name}`);
  return out
    .split('\n')
    .slice(out.split('\n').indexOf('Members:') + 1)
    .filter((l) => l.trim() !== '')
    .sort();
}

async function installForeign(runner: Runner, backend: IptablesBackend): Promise<void> {
  const ipt = `iptables-${backend}`;
  await sh(
    runner,
    [
      `${ipt} -A FORWARD -s 192.0.2.0/24 -j DROP`,
      `${ipt} -N FOREIGN`,
      `${ipt} -A FOREIGN -d 198.51.100.0/24 -j DROP`,
      `${ipt} -A FORWARD -j FOREIGN`,
      'ipset create foreign-set hash:ip',
      'ipset add foreign-set 192.0.2.9',
    ].join(' && '),
  );
}

for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
  describe(`dataplane: apply edge with hand-written rulesets (${backend})`, function () {
    this.timeout(60_000);
    let ns: Awaited<ReturnType<typeof scratchNetns>> | undefined;
    let runner: Runner;
    let foreignBefore: string[];

    beforeEach(async () => {
      ns = await scratchNetns();
      runner = ns.runner;
      await installForeign(runner, backend);
      foreignBefore = foreignLines(await save(runner, backend));
    });
    afterEach(async () => {
      // Whatever a test did, the foreign rules are exactly as they were.
      try {
        if (ns) expect(foreignLines(await save(runner, backend))).to.deep.equal(foreignBefore);
      } finally {
        await ns?.dispose();
        ns = undefined;
      }
    });

    it('programs sets, chains and one hook at the top of FORWARD; applying again changes nothing', async () => {
      const applier = new RulesetApplier(runner, toolsFor(backend));
      const first = await applier.apply(ruleset());
      expect(first.mode).to.equal('resync');
      expect(first.chainsCreated).to.deep.equal(['STN-T-TOP', 'STN-T-POD']);
      const text = await save(runner, backend);
      const forward = chainLines(text, 'FORWARD');
      expect(forward[0]).to.equal(`-A FORWARD ${hook}`);
      expect(forward.slice(1)).to.deep.equal(['-A FORWARD -s 192.0.2.0/24 -j DROP', '-A FORWARD -j FOREIGN']);
      expect(chainLines(text, 'STN-T-POD')).to.have.length(3);
      expect(await setEntries(runner, 'stn-t-nets')).to.deep.equal([
        '172.17.0.0/16',
        '172.17.1.0/24 nomatch',
      ]);

      const again = await applier.apply(ruleset());
      expect(again).to.include({ mode: 'incremental', iptablesLines: 0, ipsetLines: 0 });
      // A fresh applier (an agent restart) reads the real state and finds nothing to do either,
      // though the rules were written in another spelling than iptables-save prints.
      const restarted = await new RulesetApplier(runner, toolsFor(backend)).apply(ruleset());
      expect(restarted).to.include({ mode: 'resync', iptablesLines: 0, ipsetLines: 0 });
      expect(
        chainLines(await save(runner, backend), 'FORWARD').filter((l) => l.includes('softtenant')),
      ).to.have.length(1);
    });

    it('rewrites only the chains that changed; membership changes by deltas, large ones by swap', async () => {
      const applier = new RulesetApplier(runner, toolsFor(backend));
      await applier.apply(ruleset());
      const topBefore = chainLines(await save(runner, backend), 'STN-T-TOP');

      const changed = await applier.apply(
        ruleset({ podRules: ['-p udp --dport 53 -j RETURN', '-j REJECT'] }),
      );
      expect(changed.chainsRewritten).to.deep.equal(['STN-T-POD']);
      expect(changed.chainsCreated).to.deep.equal([]);
      expect(changed.hooksRewritten).to.deep.equal([]);
      const text = await save(runner, backend);
      expect(chainLines(text, 'STN-T-TOP')).to.deep.equal(topBefore);
      expect(chainLines(text, 'STN-T-POD')).to.deep.equal([
        '-A STN-T-POD -p udp -m udp --dport 53 -j RETURN',
        '-A STN-T-POD -j REJECT --reject-with icmp-port-unreachable',
      ]);

      const delta = await applier.apply(
        ruleset({
          members: ['10.9.1.2', '10.9.1.3'],
          podRules: ['-p udp --dport 53 -j RETURN', '-j REJECT'],
        }),
      );
      expect(delta).to.include({ iptablesLines: 0, entriesAdded: 1, entriesRemoved: 1 });
      expect(await setEntries(runner, 'stn-t-peers')).to.deep.equal(['10.9.1.2', '10.9.1.3']);

      const many = Array.from({ length: 300 }, (_, i) => `10.9.${2 + Math.floor(i / 250)}.${(i % 250) + 1}`);
      const swap = await applier.apply(
        ruleset({ members: many, podRules: ['-p udp --dport 53 -j RETURN', '-j REJECT'] }),
      );
      expect(swap.entriesAdded).to.equal(300);
      expect(await setEntries(runner, 'stn-t-peers')).to.deep.equal([...many].sort());
      expect(await sh(runner, 'ipset list -n')).not.to.match(/stn-tmp-/);
    });

    it('turns an except into a match (and back) through a swap, never by delete-then-add', async () => {
      const applier = new RulesetApplier(runner, toolsFor(backend));
      await applier.apply(ruleset());
      const flip = await applier.apply(ruleset({ nets: ['172.17.0.0/16', '172.17.1.0/24'] }));
      expect(flip.setsChanged).to.equal(1);
      expect(await setEntries(runner, 'stn-t-nets')).to.deep.equal(['172.17.0.0/16', '172.17.1.0/24']);
      await applier.apply(ruleset());
      expect(await setEntries(runner, 'stn-t-nets')).to.deep.equal([
        '172.17.0.0/16',
        '172.17.1.0/24 nomatch',
      ]);
    });

    it('removes stale chains and sets once nothing refers to them', async () => {
      const applier = new RulesetApplier(runner, toolsFor(backend));
      await applier.apply(ruleset());
      const r = await applier.apply(ruleset({ withPod: false }));
      expect(r.chainsDeleted).to.deep.equal(['STN-T-POD']);
      expect(r.setsDeleted).to.deep.equal(['stn-t-nets']);
      const text = await save(runner, backend);
      expect(text).not.to.match(/STN-T-POD/);
      expect(await sh(runner, 'ipset list -n')).not.to.match(/stn-t-nets/);
      expect(chainLines(text, 'STN-T-TOP')).to.deep.equal([
        '-A STN-T-TOP -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
        '-A STN-T-TOP -m set --match-set stn-t-peers dst -j REJECT --reject-with icmp-port-unreachable',
      ]);
    });

    it('a resync repairs drift: a flushed chain, a deleted or doubled hook, a flushed or destroyed set', async () => {
      const applier = new RulesetApplier(runner, toolsFor(backend));
      await applier.apply(ruleset());
      const good = await save(runner, backend);
      const ipt = `iptables-${backend}`;
      await sh(runner, `${ipt} -F STN-T-POD && ${ipt} -D FORWARD ${hook} && ipset flush stn-t-peers`);
      expect(
        (await applier.apply(ruleset())).iptablesLines,
        'an incremental apply trusts its memory',
      ).to.equal(0);
      const repaired = await applier.apply(ruleset(), { resync: true });
      expect(repaired.chainsRewritten).to.deep.equal(['STN-T-POD']);
      expect(repaired.hooksRewritten).to.deep.equal(['FORWARD']);
      expect(chainLines(await save(runner, backend), 'STN-T-POD')).to.deep.equal(
        chainLines(good, 'STN-T-POD'),
      );
      expect(chainLines(await save(runner, backend), 'FORWARD')).to.deep.equal(chainLines(good, 'FORWARD'));
      expect(await setEntries(runner, 'stn-t-peers')).to.deep.equal(['10.9.1.1', '10.9.1.2']);

      // A second copy of the hook, inserted by hand: the resync keeps exactly one, first.
      await sh(runner, `${ipt} -A FORWARD ${hook}`);
      await applier.apply(ruleset(), { resync: true });
      expect(chainLines(await save(runner, backend), 'FORWARD')).to.deep.equal(chainLines(good, 'FORWARD'));

      // A destroyed set (its users flushed first, as a careless `iptables -F` would leave it).
      await sh(runner, `${ipt} -F STN-T-POD && ${ipt} -F STN-T-TOP && ipset destroy stn-t-nets`);
      await applier.apply(ruleset(), { resync: true });
      expect(await setEntries(runner, 'stn-t-nets')).to.deep.equal([
        '172.17.0.0/16',
        '172.17.1.0/24 nomatch',
      ]);
      expect(chainLines(await save(runner, backend), 'STN-T-TOP')).to.deep.equal(
        chainLines(good, 'STN-T-TOP'),
      );
    });

    it('an incremental apply that trips over drift is redone as a resync', async () => {
      const applier = new RulesetApplier(runner, toolsFor(backend));
      await applier.apply(ruleset());
      const ipt = `iptables-${backend}`;
      // Someone deleted an agent chain; the next incremental apply rewrites a chain that jumps
      // to it, which the restore refuses; the applier then reads the real state and rebuilds.
      await sh(runner, `${ipt} -F STN-T-TOP && ${ipt} -F STN-T-POD && ${ipt} -X STN-T-POD`);
      const r = await applier.apply(ruleset({ topExtra: ['-s 10.9.0.0/24 -j STN-T-POD'] }));
      expect(r).to.include({ mode: 'resync', recovered: true });
      expect(r.chainsCreated).to.deep.equal(['STN-T-POD']);
      expect(r.chainsRewritten).to.deep.equal(['STN-T-TOP']);
      expect(chainLines(await save(runner, backend), 'STN-T-POD')).to.have.length(3);
    });

    it('a failing restore names the chain and quotes the tool, and the previous rules stay in force', async () => {
      const applier = new RulesetApplier(runner, toolsFor(backend));
      await applier.apply(ruleset());
      const before = chainLines(await save(runner, backend), 'STN-T-POD');
      let err: unknown;
      try {
        await applier.apply(ruleset({ podRules: ['-m nosuchmatch --whatever -j RETURN', '-j REJECT'] }));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ApplyError);
      const e = err as ApplyError;
      expect(e.phase).to.equal('iptables');
      expect(e.subject).to.equal('chain STN-T-POD');
      expect(e.message).to.match(/nosuchmatch/);
      expect(e.message).to.match(new RegExp(`iptables-${backend}-restore`));
      expect(chainLines(await save(runner, backend), 'STN-T-POD')).to.deep.equal(before);
      expect(applier.lastApplied(), 'the applier no longer trusts its memory').to.equal(undefined);

      let setErr: unknown;
      try {
        await applier.apply(ruleset({ members: ['10.9.1.300'] }));
      } catch (e2) {
        setErr = e2;
      }
      expect(setErr).to.be.instanceOf(ApplyError);
      expect((setErr as ApplyError).message).to.match(/stn-t-peers.*10\.9\.1\.300/);
      // And it recovers with a good ruleset.
      await applier.apply(ruleset());
      expect(chainLines(await save(runner, backend), 'STN-T-POD')).to.deep.equal(before);
    });

    it('cleanup removes the hooks, chains and sets of the agent from both backends, and nothing else', async () => {
      // Agent state in both backends, as after a node switched backends.
      await new RulesetApplier(runner, toolsFor(backend)).apply(ruleset());
      const other: IptablesBackend = backend === 'nft' ? 'legacy' : 'nft';
      await sh(runner, `iptables-${other} -A FORWARD -s 192.0.2.77 -j DROP`);
      const otherForeign = foreignLines(await save(runner, other));
      // (Same names: ipsets are one per namespace, whichever iptables uses them.)
      await new RulesetApplier(runner, toolsFor(other)).apply(ruleset());
      const r = await cleanupAgentState(runner);
      expect(r.backends.sort()).to.deep.equal(['legacy', 'nft']);
      expect(r.setsRemoved).to.equal(2);
      for (const b of ['nft', 'legacy'] as IptablesBackend[])
        expect(await save(runner, b)).not.to.match(/STN-|softtenant/);
      expect(await sh(runner, 'ipset list -n')).to.equal('foreign-set\n');
      expect(foreignLines(await save(runner, other))).to.deep.equal(otherForeign);
      expect((await cleanupAgentState(runner)).setsRemoved, 'a second cleanup finds nothing').to.equal(0);
    });
  });
}

describe('dataplane: iptables backend detection', function () {
  this.timeout(30_000);
  let ns: Awaited<ReturnType<typeof scratchNetns>> | undefined;
  beforeEach(async () => {
    ns = await scratchNetns();
  });
  afterEach(async () => {
    await ns?.dispose();
    ns = undefined;
  });

  it('defaults to nft on an empty node', async () => {
    expect((await detectBackend((ns as { runner: Runner }).runner, undefined)).backend).to.equal('nft');
  });
  it('follows the backend that already holds rules', async () => {
    const runner = (ns as { runner: Runner }).runner;
    await sh(runner, 'iptables-legacy -A FORWARD -s 192.0.2.1 -j DROP');
    expect(await detectBackend(runner, undefined)).to.include({ backend: 'legacy' });
    await sh(
      runner,
      'iptables-nft -A FORWARD -s 192.0.2.1 -j DROP && iptables-nft -A FORWARD -s 192.0.2.2 -j DROP',
    );
    expect(await detectBackend(runner, undefined)).to.include({ backend: 'nft' });
  });
  it("stays with the backend of the agent's own earlier chains, and honours an explicit choice", async () => {
    const runner = (ns as { runner: Runner }).runner;
    await sh(
      runner,
      'iptables-nft -A FORWARD -s 192.0.2.1 -j DROP && iptables-nft -A FORWARD -s 192.0.2.2 -j DROP',
    );
    await sh(runner, 'iptables-legacy -N STN-OLD');
    expect(await detectBackend(runner, undefined)).to.include({
      backend: 'legacy',
      reason: 'agent chains already in legacy',
    });
    expect(await detectBackend(runner, 'nft')).to.include({ backend: 'nft', reason: 'set explicitly' });
  });
});
