// Fail-closed for new pods (issue 13), with real packets on the two-node lab. A "new" pod is a
// lab host that has its address on the wire (as after the CNI's ADD) while the cluster state the
// agent renders from shows the pod bound to its node without an IP (the kubelet has not written
// it yet). Each node is programmed as the agent does it: IncrementalNodeRenderer, then the
// NewPodGuard, then the real apply edge (NodeDataplane). Both iptables backends.
import { expect } from 'chai';
import type { Pod } from '../../operator/api/networkpolicy.js';
import type { IptablesBackend } from '../../operator/dataplane/backend.js';
import { toolsFor } from '../../operator/dataplane/backend.js';
import {
  NEW_POD_CHAIN,
  NewPodGuard,
  parsePodCidrs,
  type FailClosedMode,
} from '../../operator/dataplane/fail-closed.js';
import { NodeDataplane } from '../../operator/dataplane/node-dataplane.js';
import { IncrementalNodeRenderer } from '../../operator/dataplane/render-incremental.js';
import { cleanupStaleLabs } from '../lab/build.js';
import type { Lab, ProbeCell } from '../support/lab.js';
import { expectMatrix, startLab } from '../support/lab.js';
import { ClusterState, netpol, ns, pod } from '../support/lab-cluster.js';
import { ports } from '../support/lab-fixture.js';

const { tcp, udp } = ports;
const N1 = 'n1';
const N2 = 'n2';
const CIDRS: Record<string, string> = { [N1]: '10.244.1.0/24', [N2]: '10.244.2.0/24' };

const OLD = 'iso/old'; // isolated, programmed
const PEER = 'iso/peer'; // isolated, programmed, on the other node
const NEW = 'iso/new'; // isolated, address on the wire, not yet in the API
const OPEN_OLD = 'open/old'; // no policy, programmed
const OPEN_NEW = 'open/new'; // no policy, address on the wire, not yet in the API
const CLIENT = 'client/c'; // another tenant's pod on the other node
const NODE1 = 'node/n1';

const IPS: Record<string, string> = {
  [OLD]: '10.244.1.10',
  [OPEN_OLD]: '10.244.1.11',
  [NEW]: '10.244.1.20',
  [OPEN_NEW]: '10.244.1.21',
  [PEER]: '10.244.2.11',
  [CLIENT]: '10.244.2.10',
};
const NODE_OF: Record<string, string> = {
  [OLD]: N1,
  [OPEN_OLD]: N1,
  [NEW]: N1,
  [OPEN_NEW]: N1,
  [PEER]: N2,
  [CLIENT]: N2,
};

function podFor(key: string, known: boolean): Pod {
  const [namespace, name] = key.split('/');
  return pod(namespace, name, NODE_OF[key], IPS[key], { app: name }, [], { noIP: !known });
}

/** The state the agents render from: `unknown` pods are bound to their node without an IP. */
function clusterState(unknown: readonly string[]): ClusterState {
  return new ClusterState(
    [ns('iso', { tenant: 'iso' }), ns('open'), ns('client', { tenant: 'client' })],
    Object.keys(IPS).map((k) => podFor(k, !unknown.includes(k))),
    // The isolated tenant: ingress and egress only within its namespace.
    [
      netpol('iso', 'same-namespace', {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      }),
    ],
  );
}

const servePorts = [tcp(80), udp(53)];

class GuardedNodes {
  private readonly renderers = new Map<string, IncrementalNodeRenderer>();
  private readonly guards = new Map<string, NewPodGuard>();
  private readonly planes = new Map<string, NodeDataplane>();

  constructor(
    private readonly lab: Lab,
    private readonly backend: IptablesBackend,
  ) {}

  /** Programs both nodes as their agents would, with fail-closed in `mode`. */
  async program(state: ClusterState, mode: FailClosedMode, full = false): Promise<void> {
    for (const node of [N1, N2]) {
      let plane = this.planes.get(node);
      if (!plane)
        this.planes.set(node, (plane = await NodeDataplane.open(this.lab.nodeRunner(node), this.backend)));
      let renderer = this.renderers.get(node);
      if (!renderer) this.renderers.set(node, (renderer = new IncrementalNodeRenderer(node)));
      const key = `${node}/${mode}`;
      let guard = this.guards.get(key);
      if (!guard && mode !== 'off')
        this.guards.set(key, (guard = new NewPodGuard(node, mode, parsePodCidrs([CIDRS[node]]))));
      const base = renderer.render(state, { full });
      const out = mode === 'off' || !guard ? base : guard.apply(base, state);
      expect(out.problems, `render problems on ${node}`).to.deep.equal([]);
      await plane.apply(out, { full });
    }
  }

  async cleanup(): Promise<void> {
    for (const plane of this.planes.values()) await plane.cleanup();
  }

  async save(node: string): Promise<string> {
    const r = await this.lab.nodeRunner(node).run([toolsFor(this.backend).save, '-t', 'filter']);
    return r.stdout;
  }
}

function cells(pairs: [string, string][]): ProbeCell[] {
  return pairs.flatMap(([from, to]) => [
    { from, to, port: 80, protocol: 'TCP' as const },
    { from, to, port: 53, protocol: 'UDP' as const },
  ]);
}

for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
  describe(`dataplane: fail-closed for new pods (${backend})`, function () {
    this.timeout(120_000);
    let lab: Lab | undefined;
    let nodes: GuardedNodes;

    const expectCells = async (
      pairs: [string, string][],
      allowed: (c: ProbeCell) => boolean,
      label: string,
    ): Promise<void> => {
      const l = lab as Lab;
      expectMatrix(l, await l.probe(cells(pairs)), allowed, label);
    };

    before(async function () {
      this.timeout(60_000);
      await cleanupStaleLabs();
      // The wires know every address, the API (clusterState) not all of them.
      lab = await startLab(clusterState([]).labSpec([], servePorts));
      nodes = new GuardedNodes(lab, backend);
    });
    after(async () => {
      await nodes?.cleanup().catch(() => undefined);
      await lab?.down();
    });

    it("refuses an isolated pod's address both ways until it is programmed, then enforces its policy", async () => {
      await nodes.program(clusterState([NEW, OPEN_NEW]), 'on');
      const around: [string, string][] = [
        [CLIENT, NEW], // routed, from another tenant
        [OPEN_OLD, NEW], // bridged, same node
        [OLD, NEW], // bridged, same namespace: allowed by policy, but not before NEW is programmed
        [PEER, NEW], // routed, same namespace
        [NEW, CLIENT], // egress of the new pod
        [NEW, OLD],
        [OPEN_NEW, CLIENT], // a non-isolated pod starting at the same moment waits too (the trade-off)
        [CLIENT, OPEN_OLD], // programmed pods are not affected
        [OPEN_OLD, CLIENT],
        [OLD, PEER],
      ];
      const known = (c: ProbeCell): boolean =>
        (c.from === CLIENT && c.to === OPEN_OLD) ||
        (c.from === OPEN_OLD && c.to === CLIENT) ||
        (c.from === OLD && c.to === PEER);
      await expectCells(around, known, 'NEW awaiting its address');

      // The kubelet writes the addresses; the agent programs them: NEW now gets its policy.
      await nodes.program(clusterState([]), 'on');
      await expectCells(
        around,
        (c) => {
          const isolated = (h: string): boolean => h.startsWith('iso/');
          // iso pods talk only among themselves; everyone else is open.
          return isolated(c.from) || isolated(c.to) ? isolated(c.from) && isolated(c.to) : true;
        },
        'NEW programmed',
      );
    });

    it('a pod of a namespace that no policy isolates is reachable at once', async () => {
      // Only the non-isolated pod awaits its address: nothing is armed.
      await nodes.program(clusterState([OPEN_NEW]), 'on');
      await expectCells(
        [
          [CLIENT, OPEN_NEW],
          [OPEN_NEW, CLIENT],
          [OPEN_OLD, OPEN_NEW],
          [OLD, OPEN_NEW], // egress of an isolated pod: still its policy's verdict
        ],
        (c) => c.from !== OLD,
        'OPEN_NEW awaiting its address',
      );
      const save = await nodes.save(N1);
      expect(save, 'the guard chain holds no rule while nothing is armed').to.not.match(
        new RegExp(`-A ${NEW_POD_CHAIN} `),
      );
    });

    it('the node itself and host-network pods reach an unprogrammed pod, and it reaches them', async () => {
      const state = clusterState([NEW]);
      // A host-network pod of the isolated namespace without an IP does not arm anything (it has
      // no address of its own), and traffic of the node's own network namespace is never guarded.
      state.pods = [
        ...state.pods,
        {
          ...podFor(OLD, false),
          metadata: { name: 'hostnet', namespace: 'iso' },
          spec: { nodeName: N1, hostNetwork: true, containers: [] },
        },
      ];
      await nodes.program(state, 'on');
      await expectCells(
        [
          [NODE1, NEW],
          [NEW, NODE1],
          [NODE1, OPEN_NEW],
          [CLIENT, NEW],
        ],
        (c) => c.from !== CLIENT,
        'node traffic while NEW awaits its address',
      );
    });

    it('strict refuses every unprogrammed address, also of namespaces without policies', async () => {
      await nodes.program(clusterState([OPEN_NEW]), 'strict');
      await expectCells(
        [
          [CLIENT, OPEN_NEW],
          [OPEN_NEW, CLIENT],
          [CLIENT, OPEN_OLD],
          [NODE1, OPEN_NEW],
        ],
        (c) => c.to === OPEN_OLD || c.from === NODE1,
        'strict',
      );
    });

    it('--fail-closed=false: the window is open and the guard is gone from the node', async () => {
      await nodes.program(clusterState([NEW]), 'on');
      await expectCells([[CLIENT, NEW]], () => false, 'on');
      await nodes.program(clusterState([NEW]), 'off', true);
      await expectCells(
        [
          [CLIENT, NEW],
          [NEW, CLIENT],
        ],
        () => true,
        'off: the unprogrammed pod is open',
      );
      for (const node of [N1, N2]) {
        const save = await nodes.save(node);
        expect(save, node).to.not.include(NEW_POD_CHAIN);
        const sets = await (lab as Lab).nodeRunner(node).run(['ipset', 'list', '-n']);
        expect(sets.stdout, node).to.not.match(/stn-(known|podnet)-4/);
      }
    });
  });
}
