// The fail-closed guard's pure parts (operator/dataplane/fail-closed.ts) and the readiness gate
// (operator/agent/readiness-gate.ts): which pods arm the guard, what it renders, that unchanged
// renders keep the applier's fast path, and that the gate writer marks each programmed pod
// once, retries failures and leaves alone what the watch already shows marked.
import { expect } from 'chai';
import type { Pod } from '../../operator/api/networkpolicy.js';
import { trimPod } from '../../operator/agent/pod-trim.js';
import {
  ENFORCED_GATE,
  GateWriter,
  podsToMark,
  type GatedPod,
  type PodConditionApi,
} from '../../operator/agent/readiness-gate.js';
import {
  AwaitingPods,
  NEW_POD_CHAIN,
  NewPodGuard,
  parseFailClosedMode,
  parsePodCidrs,
} from '../../operator/dataplane/fail-closed.js';
import { TOP_CHAIN } from '../../operator/dataplane/names.js';
import { renderNode } from '../../operator/dataplane/render-node.js';
import { IncrementalNodeRenderer } from '../../operator/dataplane/render-incremental.js';
import type { ClusterObjects } from '../../operator/netpol/types.js';
import { logger } from '../../operator/util/logger.js';
import { ManualClock, settle } from '../support/manual-clock.js';
import { NODE, ns, pod, policy } from './netpol-fixtures.js';

const CIDRS = parsePodCidrs(['10.244.1.0/24']);

function cluster(pods: Pod[]): ClusterObjects {
  return {
    namespaces: [ns('iso'), ns('open')],
    pods,
    policies: [
      policy('iso', 'db-in', { podSelector: { matchLabels: { role: 'db' } }, policyTypes: ['Ingress'] }),
      policy('iso', 'all-out', { podSelector: { matchLabels: { role: 'web' } }, policyTypes: ['Egress'] }),
    ],
  };
}

const waiting = (
  namespace: string,
  name: string,
  labels: Record<string, string>,
  extra: Partial<Pod['spec']> = {},
): Pod => {
  const p = pod(namespace, name, { labels });
  return { ...p, spec: { ...p.spec, ...extra } };
};

describe('fail-closed: flags and pod ranges', () => {
  it('reads --fail-closed as on, off or strict and refuses anything else', () => {
    expect(['true', 'on', 'false', 'off', 'strict', ' TRUE '].map(parseFailClosedMode)).to.deep.equal([
      'on',
      'on',
      'off',
      'off',
      'strict',
      'on',
    ]);
    expect(() => parseFailClosedMode('yes')).to.throw(
      "--fail-closed must be true, false or strict (got 'yes')",
    );
  });

  it('refuses a pod range with host bits or that is not a CIDR', () => {
    expect(parsePodCidrs(['10.244.1.0/24', 'fd00:10:244:1::/64']).map((c) => c.text)).to.deep.equal([
      '10.244.1.0/24',
      'fd00:10:244:1::/64',
    ]);
    expect(() => parsePodCidrs(['10.244.1.1/24'])).to.throw('host bits');
    expect(() => parsePodCidrs(['10.244.1.0'])).to.throw('not a CIDR');
  });
});

describe('fail-closed: pods awaiting an address', () => {
  const find = (pods: Pod[]): { ingress: string[]; egress: string[] } =>
    new AwaitingPods(NODE).find(cluster(pods));

  it('counts a pod bound here without an IP when a policy of its namespace selects it, per direction', () => {
    expect(
      find([waiting('iso', 'db-1', { role: 'db' }), waiting('iso', 'web-1', { role: 'web' })]),
    ).to.deep.equal({
      ingress: ['iso/db-1'],
      egress: ['iso/web-1'],
    });
  });

  it('ignores pods no policy selects, pods with an IP, of other nodes, host-network, finished or deleting', () => {
    const gone = waiting('iso', 'db-5', { role: 'db' });
    gone.metadata.deletionTimestamp = '2026-12-01T12:00:00Z';
    const done = waiting('iso', 'db-6', { role: 'db' });
    done.status = { phase: 'Succeeded' };
    expect(
      find([
        waiting('iso', 'other', { role: 'cache' }),
        waiting('open', 'db-2', { role: 'db' }),
        pod('iso', 'db-3', { labels: { role: 'db' }, ip: '10.244.1.5' }),
        waiting('iso', 'db-4', { role: 'db' }, { nodeName: 'node-b' }),
        waiting('iso', 'db-7', { role: 'db' }, { hostNetwork: true }),
        gone,
        done,
      ]),
    ).to.deep.equal({ ingress: [], egress: [] });
  });

  it('counts a policy whose podSelector does not compile as selecting every pod (fail closed)', () => {
    const objects = cluster([waiting('open', 'x', {})]);
    const broken = policy('open', 'broken', {
      podSelector: { matchExpressions: [{ key: 'a', operator: 'In' as const, values: [] }] },
      policyTypes: ['Ingress'],
    });
    expect(
      new AwaitingPods(NODE).find({ ...objects, policies: [...objects.policies, broken] }).ingress,
    ).to.deep.equal(['open/x']);
  });
});

describe('fail-closed: the guard in the ruleset', () => {
  const guardRules = (r: { ruleset: { chains: { name: string; rules: string[] }[] } }): string[] =>
    r.ruleset.chains.find((c) => c.name === NEW_POD_CHAIN)?.rules ?? [];

  it('jumps to the guard last in STN-FORWARD and lists every programmed local pod, isolated or not', () => {
    const objects = cluster([
      pod('iso', 'db-1', { labels: { role: 'db' }, ip: '10.244.1.10' }),
      pod('open', 'web', { ip: '10.244.1.11' }),
      pod('open', 'far', { ip: '10.244.2.11', node: 'node-b' }),
    ]);
    const out = new NewPodGuard(NODE, 'on', CIDRS).apply(renderNode(objects, NODE), objects);
    const top = out.ruleset.chains.find((c) => c.name === TOP_CHAIN)?.rules ?? [];
    expect(top.at(-1)).to.equal(`-j ${NEW_POD_CHAIN}`);
    expect(out.ruleset.ipsets.find((s) => s.name === 'stn-known-4')?.entries).to.deep.equal([
      '10.244.1.10',
      '10.244.1.11',
    ]);
    expect(out.ruleset.ipsets.find((s) => s.name === 'stn-podnet-4')?.entries).to.deep.equal([
      '10.244.1.0/24',
    ]);
    expect(guardRules(out), 'nothing awaits: not armed').to.deep.equal([]);
    expect(out.summary.families.ipv4.chains).to.equal(out.ruleset.chains.length);
  });

  it('arms only the direction an awaiting pod is isolated in; strict arms both always', () => {
    const objects = cluster([waiting('iso', 'db-1', { role: 'db' })]);
    const on = new NewPodGuard(NODE, 'on', CIDRS).apply(renderNode(objects, NODE), objects);
    expect(on.armed).to.deep.equal({ ingress: true, egress: false });
    expect(guardRules(on)).to.deep.equal([
      '-p tcp -m set --match-set stn-podnet-4 dst -m set ! --match-set stn-known-4 dst -m comment --comment "softtenant: ingress of a local pod not programmed yet" -j REJECT --reject-with tcp-reset',
      '-m set --match-set stn-podnet-4 dst -m set ! --match-set stn-known-4 dst -m comment --comment "softtenant: ingress of a local pod not programmed yet" -j REJECT --reject-with icmp-port-unreachable',
    ]);
    const empty = cluster([]);
    const strict = new NewPodGuard(NODE, 'strict', CIDRS).apply(renderNode(empty, NODE), empty);
    expect(guardRules(strict)).to.have.length(4);
  });

  it('keeps the chains array of an unchanged render (the applier skips its chain diff)', () => {
    const renderer = new IncrementalNodeRenderer(NODE);
    const guard = new NewPodGuard(NODE, 'on', CIDRS);
    const a = cluster([pod('open', 'web', { ip: '10.244.1.11' })]);
    const first = guard.apply(renderer.render(a), a);
    // A new pod of a namespace without policies: set members change, no chain does.
    const b = { ...a, pods: [...a.pods, pod('open', 'web2', { ip: '10.244.1.12' })] };
    const second = guard.apply(renderer.render(b), b);
    expect(second.ruleset.chains).to.equal(first.ruleset.chains);
    expect(second.ruleset.ipsets.find((s) => s.name === 'stn-known-4')?.entries).to.include('10.244.1.12');
    // An isolated pod awaiting its address arms the guard: the guard chain is rewritten.
    const c = { ...b, pods: [...b.pods, waiting('iso', 'db-1', { role: 'db' })] };
    const third = guard.apply(renderer.render(c), c);
    expect(third.ruleset.chains).to.not.equal(first.ruleset.chains);
    expect(guardRules(third)).to.have.length(2);
  });
});

describe('readiness gate', () => {
  const gated = (name: string, ip: string | undefined, condition?: string): Pod => {
    const p = pod('iso', name, { labels: { role: 'db' }, ...(ip ? { ip } : {}) });
    p.metadata.uid = `uid-${name}`;
    p.spec.readinessGates = [{ conditionType: ENFORCED_GATE }];
    if (condition) p.status = { ...p.status, conditions: [{ type: ENFORCED_GATE, status: condition }] };
    return p;
  };

  it('marks gated pods of this node once they are programmed, and not those already True', () => {
    const objects = cluster([
      gated('a', '10.244.1.10'),
      gated('b', undefined),
      gated('c', '10.244.1.12', 'True'),
      gated('d', '10.244.1.13', 'False'),
      pod('iso', 'plain', { ip: '10.244.1.14' }),
      { ...gated('far', '10.244.2.10'), spec: { ...gated('far', '10.244.2.10').spec, nodeName: 'node-b' } },
    ]);
    expect(podsToMark(objects, renderNode(objects, NODE)).map((p) => p.name)).to.deep.equal(['a', 'd']);
  });

  it('the watch cache keeps the gate and its condition, and nothing of other pods', () => {
    const raw = gated('a', '10.244.1.10', 'True') as Pod & { status: { conditions: object[] } };
    raw.status.conditions.push({ type: 'Ready', status: 'False' });
    const trimmed = trimPod(JSON.parse(JSON.stringify(raw)) as Pod);
    expect(trimmed.spec.readinessGates).to.deep.equal([{ conditionType: ENFORCED_GATE }]);
    expect(trimmed.status?.conditions).to.deep.equal([{ type: ENFORCED_GATE, status: 'True' }]);
    const plain = pod('iso', 'p', { ip: '10.244.1.2' }) as Pod & { status: { conditions?: object[] } };
    plain.status.conditions = [{ type: 'Ready', status: 'True' }];
    const t = trimPod(plain);
    expect(t.spec.readinessGates).to.equal(undefined);
    expect(t.status?.conditions).to.equal(undefined);
  });

  it('writes each pod once, retries a failure with backoff, and forgets pods no longer wanted', async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    let failNext = 1;
    const api: PodConditionApi = {
      markEnforced(p: GatedPod) {
        calls.push(p.name);
        if (failNext-- > 0) return Promise.reject(new Error('503'));
        return Promise.resolve('patched');
      },
    };
    const writer = new GateWriter(api, logger('test'), { clock, random: () => 0.5 });
    const a = { namespace: 'iso', name: 'a', uid: 'uid-a' };
    writer.update([a]);
    await settle();
    expect(calls).to.deep.equal(['a']);
    writer.update([a]); // the next sync, before the retry is due: no second write in flight
    await settle();
    expect(calls).to.deep.equal(['a']);
    await clock.advance(600);
    expect(calls).to.deep.equal(['a', 'a']);
    expect(writer.writes).to.equal(1);
    writer.update([a]); // the watch has not shown the condition yet: still no rewrite
    await settle();
    expect(calls).to.have.length(2);
    writer.update([]);
    writer.stop();
  });
});
