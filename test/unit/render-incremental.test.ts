// The fast path for pod changes must give exactly what the full render gives, whatever the
// change: checked on seeded random clusters through random sequences of pod changes, and on
// the cases that decide between the fast path and the full render.
import { expect } from 'chai';
import type { Pod } from '../../operator/api/networkpolicy.js';
import { IncrementalNodeRenderer } from '../../operator/dataplane/render-incremental.js';
import { renderNode } from '../../operator/dataplane/render-node.js';
import type { ClusterObjects } from '../../operator/netpol/types.js';
import { ns, pod, policy } from './netpol-fixtures.js';
import { pick, randomCluster, seeded, type Random } from './render-random-cluster.js';

const NODE = 'node-a';

function objects(c: {
  namespaces?: ClusterObjects['namespaces'];
  pods?: ClusterObjects['pods'];
  policies?: ClusterObjects['policies'];
}): ClusterObjects {
  return { namespaces: c.namespaces ?? [], pods: c.pods ?? [], policies: c.policies ?? [] };
}

function expectSameAsFull(
  renderer: IncrementalNodeRenderer,
  o: ClusterObjects,
  what: string,
): 'full' | 'pods' {
  const got = renderer.render(o);
  const want = renderNode(o, NODE);
  expect(got.model, `model after ${what}`).to.deep.equal(want.model);
  expect(got.ruleset, `ruleset after ${what}`).to.deep.equal(want.ruleset);
  expect(got.ruleset6, `IPv6 ruleset after ${what}`).to.deep.equal(want.ruleset6);
  expect(got.summary, `summary after ${what}`).to.deep.equal(want.summary);
  expect(got.problems, `problems after ${what}`).to.deep.equal(want.problems);
  return got.mode;
}

const labelChoices: Record<string, string>[] = [
  {},
  { app: 'web' },
  { app: 'db' },
  { app: 'api', tier: 'be' },
  { tier: 'fe' },
];

/** One random pod change: a new object for the pod in every case, as a watch delivers it. */
function mutate(r: Random, pods: Pod[], serial: number): { pods: Pod[]; what: string } {
  const i = Math.floor(r() * pods.length);
  const target = pods[i];
  const others = pods.filter((_, j) => j !== i);
  const subnet = r() < 0.5 ? 1 : 2;
  const freshIP = `10.0.${subnet}.${100 + serial}`;
  // Half the new addresses are dual-stack (an IPv6 address beside the IPv4 one).
  const fresh6 = r() < 0.5 ? `fd00:0:${subnet}::${(100 + serial).toString(16)}` : undefined;
  const freshIPs = fresh6 ? [{ ip: freshIP }, { ip: fresh6 }] : [{ ip: freshIP }];
  switch (Math.floor(r() * 7)) {
    case 0:
    case 1: {
      const p = pod(pick(r, ['n1', 'n2', 'n3']), `new${serial}`, {
        ip: freshIP,
        ...(fresh6 ? { ip2: fresh6 } : {}),
        node: r() < 0.6 ? NODE : 'node-b',
        labels: pick(r, labelChoices),
        ...(r() < 0.3 ? { ports: [{ name: 'http', containerPort: 80 }] } : {}),
      });
      return { pods: [...pods, p], what: `adding ${p.metadata.namespace}/${p.metadata.name}` };
    }
    case 2:
      return { pods: others, what: `removing ${target.metadata.name}` };
    case 3:
      return {
        pods: [...others, { ...target, metadata: { ...target.metadata, labels: pick(r, labelChoices) } }],
        what: `relabelling ${target.metadata.name}`,
      };
    case 4:
      return {
        pods: [...others, { ...target, status: { ...target.status, podIP: freshIP, podIPs: freshIPs } }],
        what: `readdressing ${target.metadata.name}`,
      };
    case 5:
      return {
        pods: [...others, { ...target, status: { ...target.status, phase: 'Succeeded' } }],
        what: `finishing ${target.metadata.name}`,
      };
    default:
      return {
        pods: [
          ...others,
          { ...target, metadata: { ...target.metadata, annotations: { touched: String(serial) } } },
        ],
        what: `annotating ${target.metadata.name}`,
      };
  }
}

describe('incremental render: pod changes', function () {
  it('equals the full render after every change, on 300 random clusters (and takes the fast path often)', function () {
    // Fixed CPU-bound work (5.4 s measured at load average 10): see render-semantics.test.ts.
    this.timeout(60_000);
    let fast = 0;
    let steps = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = seeded(seed);
      const c = randomCluster(r);
      const renderer = new IncrementalNodeRenderer(NODE);
      let pods = [...(c.pods ?? [])];
      expect(expectSameAsFull(renderer, objects({ ...c, pods }), 'the first render')).to.equal('full');
      for (let step = 0; step < 8; step++) {
        const next = mutate(r, pods, step);
        pods = next.pods;
        if (expectSameAsFull(renderer, objects({ ...c, pods }), `${next.what} (seed ${seed})`) === 'pods')
          fast++;
        steps++;
      }
    }
    // The random clusters use named ports a lot, which sends many changes to the full render.
    expect(fast / steps, `fast path share (${fast}/${steps})`).to.be.greaterThan(0.25);
  });

  describe('what takes the fast path', function () {
    const namespaces = [ns('shop', { team: 'x' }), ns('ops')];
    const policies = [
      policy('shop', 'web-from-ops', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          {
            from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'probe' } } }],
            ports: [{ port: 80 }],
          },
        ],
      }),
    ];
    const web1 = pod('shop', 'web-1', { ip: '10.1.0.10', labels: { app: 'web' } });
    const probe = pod('ops', 'probe-1', { ip: '10.2.0.10', node: 'node-b', labels: { role: 'probe' } });

    function start(pods: Pod[]): IncrementalNodeRenderer {
      const renderer = new IncrementalNodeRenderer(NODE);
      renderer.render(objects({ namespaces, policies, pods }));
      return renderer;
    }

    it('a second replica next to the first changes set members only, and no chain', function () {
      const renderer = start([web1, probe]);
      const before = renderer.render(objects({ namespaces, policies, pods: [web1, probe] }));
      const web2 = pod('shop', 'web-2', { ip: '10.1.0.11', labels: { app: 'web' } });
      const after = renderer.render(objects({ namespaces, policies, pods: [web1, probe, web2] }));
      expect(after.mode).to.equal('pods');
      expect(after.ruleset.chains).to.equal(before.ruleset.chains);
      const grown = after.ruleset.ipsets.filter((s, i) => s !== before.ruleset.ipsets[i]);
      expect(grown.map((s) => s.entries)).to.deep.equal([['10.1.0.10', '10.1.0.11']]);
    });

    it('a new peer elsewhere joins the peer set', function () {
      const renderer = start([web1, probe]);
      const probe2 = pod('ops', 'probe-2', { ip: '10.2.0.5', node: 'node-b', labels: { role: 'probe' } });
      const after = renderer.render(objects({ namespaces, policies, pods: [web1, probe, probe2] }));
      expect(after.mode).to.equal('pods');
      expect(after.model.policies[0].ingress[0].peers.podIPs).to.deep.equal(['10.2.0.5', '10.2.0.10']);
    });

    it('sees a pod pushed onto the same list it rendered before', function () {
      const list = [web1, probe];
      const renderer = new IncrementalNodeRenderer(NODE);
      renderer.render(objects({ namespaces, policies, pods: list }));
      list.push(pod('ops', 'probe-2', { ip: '10.2.0.5', node: 'node-b', labels: { role: 'probe' } }));
      const after = renderer.render(objects({ namespaces, policies, pods: list }));
      expect(after.mode).to.equal('pods');
      expect(after.model.policies[0].ingress[0].peers.podIPs).to.deep.equal(['10.2.0.5', '10.2.0.10']);
    });

    it('a status-only change of a pod renders nothing new', function () {
      const renderer = start([web1, probe]);
      const before = renderer.render(objects({ namespaces, policies, pods: [web1, probe] }));
      const touched = {
        ...web1,
        status: { ...web1.status, conditions: [{ type: 'Ready', status: 'True' }] },
      } as Pod;
      const after = renderer.render(objects({ namespaces, policies, pods: [touched, probe] }));
      expect(after.mode).to.equal('pods');
      expect(after.ruleset.ipsets).to.deep.equal(before.ruleset.ipsets);
      expect(after.model).to.deep.equal(before.model);
    });

    it('falls back to the full render when a policy would start or stop selecting pods on the node', function () {
      const renderer = start([probe]);
      const after = renderer.render(objects({ namespaces, policies, pods: [probe, web1] }));
      expect(after.mode).to.equal('full');
      expect(after.fullReason).to.match(/policy shop\/web-from-ops would start selecting/);
      const gone = renderer.render(objects({ namespaces, policies, pods: [probe] }));
      expect(gone.mode).to.equal('full');
      expect(gone.fullReason).to.match(/would select no pod/);
    });

    it('falls back when a policy, a namespace or a shared address is involved, or when asked', function () {
      const renderer = start([web1, probe]);
      const relabelled = [ns('shop', { team: 'y' }), namespaces[1]];
      expect(
        renderer.render(objects({ namespaces: relabelled, policies, pods: [web1, probe] })).fullReason,
      ).to.equal('namespaces changed');
      const twin = pod('ops', 'probe-copy', { ip: '10.2.0.10', node: 'node-b', labels: { role: 'probe' } });
      expect(
        renderer.render(objects({ namespaces: relabelled, policies, pods: [web1, probe, twin] })).fullReason,
      ).to.match(/held by more than one pod/);
      expect(
        renderer.render(objects({ namespaces: relabelled, policies, pods: [web1, probe] }), { full: true })
          .fullReason,
      ).to.equal('asked for');
    });
  });
});
