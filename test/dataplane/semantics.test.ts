// Every case of shared/netpol-semantics.md, shown by packets: the cluster is rendered and applied
// on both lab nodes by the real render and apply edge, every source probes every destination,
// and the matrix must be exactly what the case's expectation (written from the API semantics,
// not from the model) says. Pods of every namespace sit on both nodes, so each case is checked
// on the bridged same-node path and the routed cross-node path at once, and every pod and host
// is dual-stack, so each case is probed over IPv4 and over IPv6 (iptables and ip6tables, from
// the same model). Cases marked core also run on the iptables-legacy backend.
import { expect } from 'chai';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import type { IptablesBackend } from '../../operator/dataplane/backend.js';
import { cleanupStaleLabs } from '../lab/build.js';
import type { Lab, LabPort, ProbeCell } from '../support/lab.js';
import { allCells, expectMatrix, pathsCovered, startLab } from '../support/lab.js';
import type { ClusterState } from '../support/lab-cluster.js';
import { LabDataplanes, netpol, pod } from '../support/lab-cluster.js';
import {
  allExternals,
  allPods,
  ext,
  fixtureCluster,
  fixtureExternals,
  fixturePorts,
  inSet,
  isPod,
  isTcp,
  isUdp,
  N1,
  N2,
  nsOf,
  pods,
  ports,
} from '../support/lab-fixture.js';

const { tcp, udp } = ports;
const db = inSet(pods.db, pods.db2);
const fe = inSet(pods.fe1, pods.fe2);
const api = inSet(pods.api1, pods.api2);
const web = inSet(pods.web1, pods.web2);
const tool = inSet(pods.tool1, pods.tool2);
const role = (r: string) => ({ matchLabels: { role: r } });
const app = (a: string) => ({ matchLabels: { app: a } });

interface Ctx {
  /** The host's IPv4 address (the fixture's IPv6 addresses mirror it, see mirror6). */
  ip(host: string): string;
  node(host: string): string;
}

interface Case {
  title: string;
  core?: boolean;
  policies: NetworkPolicy[];
  mutate?: (c: ClusterState) => void;
  ports: LabPort[];
  sources?: string[];
  destinations?: string[];
  expected: (c: ProbeCell, x: Ctx) => boolean;
  /** Extra checks on the programmed rules. */
  rules?: (saves: Map<string, string>) => void;
  /** Families probed (default both). */
  families?: (4 | 6)[];
}

const cases: Case[] = [
  {
    title: '1. a pod selected by no policy is not isolated: everything is allowed',
    core: true,
    policies: [],
    ports: [tcp(80), udp(53)],
    destinations: [...allPods, ...allExternals],
    expected: () => true,
  },
  {
    title: '2. ingress isolation: only what the ingress rules allow gets in, and egress stays open',
    core: true,
    policies: [
      netpol('default', 'db-in', {
        podSelector: role('db'),
        ingress: [{ from: [{ podSelector: role('frontend') }], ports: [{ port: 6379 }] }],
      }),
    ],
    ports: [tcp(6379), udp(6379), tcp(80)],
    destinations: [...allPods, ...allExternals],
    // ops/tool1 is role=frontend too, but a podSelector alone means the policy's namespace.
    expected: (c) => (db(c.to) ? fe(c.from) && isTcp(c) && c.port === 6379 : true),
  },
  {
    title: '2. egress isolation is independent of ingress',
    core: true,
    policies: [
      netpol('dev', 'web-out', {
        podSelector: app('web'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }],
      }),
    ],
    ports: [tcp(80), udp(53)],
    destinations: [...allPods, ...allExternals],
    expected: (c) => (web(c.from) ? nsOf(c.to) === 'prod' : true),
  },
  {
    title:
      '3. policyTypes default: an egress section isolates both directions; egress: [] isolates ingress only',
    policies: [
      netpol('ops', 'tool-out', { podSelector: app('tool'), egress: [{ to: [{ podSelector: {} }] }] }),
      netpol('prod', 'api-in', {
        podSelector: app('api'),
        ingress: [{ from: [{ namespaceSelector: {} }] }],
        egress: [],
      }),
    ],
    ports: [tcp(80)],
    destinations: [...allPods, ...allExternals],
    expected: (c) => {
      if (tool(c.to) || tool(c.from)) return false; // no ingress rules; egress only to ops pods, whose ingress is closed
      if (api(c.to)) return isPod(c.from); // namespaceSelector {}: every pod of every namespace, no external
      return true; // api egress stays open
    },
  },
  {
    title: '4. policies are additive: the union of what they allow',
    policies: [
      netpol('default', 'db-a', {
        podSelector: role('db'),
        ingress: [{ from: [{ podSelector: role('frontend') }], ports: [{ port: 6379 }] }],
      }),
      netpol('default', 'db-b', {
        podSelector: role('db'),
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }],
            ports: [{ port: 80 }, { port: 6379 }],
          },
        ],
      }),
    ],
    ports: [tcp(6379), tcp(80)],
    expected: (c) => (db(c.to) ? (fe(c.from) && c.port === 6379) || nsOf(c.from) === 'dev' : true),
  },
  {
    title: "5. a connection needs the source's egress and the destination's ingress, on one node too",
    core: true,
    policies: [
      netpol('default', 'fe-out', {
        podSelector: role('frontend'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: role('db') }] }],
      }),
      netpol('default', 'db-in', {
        podSelector: role('db'),
        ingress: [
          {
            from: [{ podSelector: role('frontend') }, { namespaceSelector: { matchLabels: { team: 'b' } } }],
            ports: [{ port: 6379 }],
          },
        ],
      }),
      netpol('prod', 'api-in', {
        podSelector: app('api'),
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } },
                podSelector: role('frontend'),
              },
            ],
          },
        ],
      }),
    ],
    ports: [tcp(6379), tcp(80)],
    expected: (c) => {
      const egressOK = fe(c.from) ? db(c.to) : true;
      const ingressOK = db(c.to)
        ? (fe(c.from) || nsOf(c.from) === 'dev') && c.port === 6379
        : api(c.to)
          ? fe(c.from)
          : true;
      return egressOK && ingressOK;
    },
  },
  {
    title: '6. replies of allowed connections pass although the replying pod is isolated for egress',
    core: true,
    policies: [
      netpol('default', 'db-lock', {
        podSelector: role('db'),
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: role('frontend') }] }],
        egress: [],
      }),
    ],
    ports: [tcp(80), udp(53)],
    destinations: [...allPods, ...allExternals],
    expected: (c) => (db(c.from) ? false : db(c.to) ? fe(c.from) : true),
  },
  {
    title: '7. namespaceSelector and podSelector in one peer are ANDed; separate peers are ORed',
    policies: [
      netpol('prod', 'and', {
        podSelector: app('api'),
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 'b' } },
                podSelector: { matchLabels: { canary: 'true' } },
              },
            ],
          },
        ],
      }),
      netpol('default', 'or', {
        podSelector: role('db'),
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }, { podSelector: role('frontend') }],
          },
        ],
      }),
    ],
    ports: [tcp(80)],
    expected: (c) =>
      api(c.to) ? c.from === pods.web2 : db(c.to) ? nsOf(c.from) === 'dev' || fe(c.from) : true,
  },
  {
    title:
      "8. podSelector {} means every pod of the policy's namespace; namespaceSelector {} reaches every namespace",
    policies: [
      netpol('default', 'same-ns', { podSelector: role('db'), ingress: [{ from: [{ podSelector: {} }] }] }),
      netpol('prod', 'any-ns', {
        podSelector: app('api'),
        ingress: [{ from: [{ namespaceSelector: {}, podSelector: app('web') }] }],
      }),
    ],
    ports: [tcp(80)],
    expected: (c) =>
      db(c.to) ? isPod(c.from) && nsOf(c.from) === 'default' : api(c.to) ? web(c.from) : true,
  },
  {
    title:
      '9 + 18. ingress: [] allows nothing, [{}] everything, no from = any peer, no ports = any port; the own node still reaches its pods',
    core: true,
    policies: [
      netpol('default', 'deny', { podSelector: role('db'), policyTypes: ['Ingress'], ingress: [] }),
      netpol('prod', 'all', { podSelector: app('api'), ingress: [{}] }),
      netpol('dev', 'ports-only', { podSelector: app('web'), ingress: [{ ports: [{ port: 80 }] }] }),
      netpol('ops', 'from-only', { podSelector: app('tool'), ingress: [{ from: [{ podSelector: {} }] }] }),
    ],
    ports: [tcp(80), udp(53)],
    sources: [...allPods, ...allExternals, `node/${N1}`, `node/${N2}`],
    expected: (c, x) => {
      // Traffic from a pod's own node (kubelet probes) stays allowed; another node is just an address.
      if (c.from === `node/${x.node(c.to)}`) return true;
      if (db(c.to)) return false;
      if (api(c.to)) return true;
      if (web(c.to)) return isTcp(c) && c.port === 80;
      if (tool(c.to)) return isPod(c.from) && nsOf(c.from) === 'ops';
      return true;
    },
  },
  {
    title:
      '10. ipBlock: cidr minus except, an except re-allowed by another policy, /0, a block covering pod IPs',
    core: true,
    policies: [
      // Each block and its IPv6 mirror (a /16 is a /48, a /24 a /64), so both families see the same.
      netpol('default', 'blocks', {
        podSelector: role('db'),
        ingress: [
          {
            from: [
              { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
              { ipBlock: { cidr: 'fd00:172:17::/48', except: ['fd00:172:17:1::/64'] } },
            ],
          },
        ],
      }),
      netpol('default', 'reallow', {
        podSelector: role('db'),
        ingress: [
          { from: [{ ipBlock: { cidr: '172.17.1.5/32' } }, { ipBlock: { cidr: 'fd00:172:17:1::5/128' } }] },
        ],
      }),
      netpol('prod', 'zero', {
        podSelector: app('api'),
        ingress: [
          {
            from: [
              { ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.2.0/24'] } },
              { ipBlock: { cidr: '::/0', except: ['fd00:10:244:2::/64'] } },
            ],
          },
        ],
      }),
      netpol('dev', 'podnet', {
        podSelector: app('web'),
        ingress: [
          { from: [{ ipBlock: { cidr: '10.244.1.0/24' } }, { ipBlock: { cidr: 'fd00:10:244:1::/64' } }] },
        ],
      }),
    ],
    ports: [tcp(80)],
    expected: (c, x) => {
      const ip = x.ip(c.from);
      if (db(c.to)) return c.from === ext.x1 || c.from === ext.x2; // x1b stays in the except
      if (api(c.to)) return !ip.startsWith('10.244.2.');
      if (web(c.to)) return ip.startsWith('10.244.1.');
      return true;
    },
  },
  {
    title:
      '10 (families). an IPv6-only ipBlock allows exactly its IPv6 addresses and nothing over IPv4; an IPv4-only one the other way round',
    core: true,
    policies: [
      netpol('default', 'v6-only', {
        podSelector: role('db'),
        ingress: [{ from: [{ ipBlock: { cidr: 'fd00:172:17::/48', except: ['fd00:172:17:2::/64'] } }] }],
      }),
      netpol('prod', 'v4-only', {
        podSelector: app('api'),
        ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.2.0/24'] } }] }],
      }),
      // Egress too: web may reach 10.0.0.0/24 (ext/svc) over IPv4 only, and fd00:192:168::/48
      // (ext/far) over IPv6 only.
      netpol('dev', 'split-egress', {
        podSelector: app('web'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }, { ipBlock: { cidr: 'fd00:192:168::/48' } }] }],
      }),
    ],
    ports: [tcp(80)],
    destinations: [...allPods, ...allExternals],
    expected: (c) => {
      const v6 = c.family === 6;
      if (web(c.from)) return v6 ? c.to === ext.far : c.to === ext.svc;
      if (db(c.to)) return v6 && (c.from === ext.x1 || c.from === ext.x1b);
      if (api(c.to)) return !v6 && (c.from === ext.x1 || c.from === ext.x1b);
      return true;
    },
  },
  {
    title: '11. matchExpressions In, NotIn, Exists, DoesNotExist, and the namespace name label',
    policies: [
      netpol('default', 'expr', {
        podSelector: { matchExpressions: [{ key: 'role', operator: 'In', values: ['db'] }] },
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['dev'] }],
                },
                podSelector: { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] },
              },
              {
                podSelector: {
                  matchExpressions: [
                    { key: 'role', operator: 'Exists' },
                    { key: 'role', operator: 'NotIn', values: ['db'] },
                  ],
                },
              },
            ],
          },
        ],
      }),
      netpol('prod', 'notin', {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] },
              },
            ],
          },
        ],
      }),
    ],
    ports: [tcp(80)],
    expected: (c) => {
      if (db(c.to)) return [pods.web1, pods.fe1, pods.fe2].includes(c.from as (typeof pods)['web1']);
      if (api(c.to)) return isPod(c.from) && nsOf(c.from) !== 'prod'; // NotIn also matches namespaces without the key
      return true;
    },
  },
  {
    title: '12. protocol defaults to TCP; TCP, UDP and SCTP are distinct; an SCTP-only rule still isolates',
    core: true,
    policies: [
      netpol('default', 'udp-only', {
        podSelector: role('db'),
        ingress: [{ ports: [{ protocol: 'UDP', port: 6379 }] }],
      }),
      netpol('prod', 'sctp-only', {
        podSelector: app('api'),
        ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }],
      }),
      netpol('dev', 'default-tcp', { podSelector: app('web'), ingress: [{ ports: [{ port: 53 }] }] }),
    ],
    ports: [tcp(6379), udp(6379), tcp(80), udp(53), tcp(53)],
    expected: (c) =>
      db(c.to)
        ? isUdp(c) && c.port === 6379
        : api(c.to)
          ? false
          : web(c.to)
            ? isTcp(c) && c.port === 53
            : true,
    // SCTP cannot be sent here (no SCTP in this kernel); the rule for it must still be programmed.
    rules: (saves) => {
      for (const node of [N1, N2]) expect(saves.get(node), node).to.match(/-p sctp -m sctp --dport 80 /);
    },
  },
  {
    title:
      '13. named ports resolve per destination pod and protocol; a name a pod does not declare matches nothing',
    policies: [
      netpol('default', 'named-in', {
        podSelector: role('db'),
        ingress: [{ ports: [{ port: 'http' }, { protocol: 'UDP', port: 'redis' }] }],
      }),
      netpol('prod', 'named-missing', { podSelector: app('api'), ingress: [{ ports: [{ port: 'redis' }] }] }),
      netpol('dev', 'named-out', {
        podSelector: app('web'),
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'http' }] }],
      }),
    ],
    ports: [tcp(80), tcp(8080), tcp(6379), udp(6379), udp(53)],
    destinations: [...allPods, ...allExternals],
    expected: (c) => {
      const http: Record<string, number> = {
        [pods.db]: 80,
        [pods.db2]: 8080,
        [pods.fe1]: 80,
        [pods.api1]: 8080,
        [pods.api2]: 80,
        [pods.web1]: 80,
      };
      const declares = isTcp(c) && http[c.to] === c.port;
      const egressOK = web(c.from) ? declares : true;
      const ingressOK = db(c.to) ? declares : api(c.to) ? false : true;
      return egressOK && ingressOK;
    },
  },
  {
    title: '14 + 15. endPort ranges are inclusive; a protocol without a port allows all its ports',
    policies: [
      netpol('default', 'range', {
        podSelector: role('db'),
        ingress: [{ ports: [{ port: 9000, endPort: 9001 }] }],
      }),
      netpol('prod', 'udp-all', { podSelector: app('api'), ingress: [{ ports: [{ protocol: 'UDP' }] }] }),
    ],
    ports: [tcp(9000), tcp(9001), tcp(9002), udp(53), udp(6379), tcp(6379)],
    expected: (c) =>
      db(c.to) ? isTcp(c) && (c.port === 9000 || c.port === 9001) : api(c.to) ? isUdp(c) : true,
  },
  {
    title: '17. pods without an IP, finished pods and hostNetwork pods are neither peers nor targets',
    policies: [
      netpol('default', 'fe-only', {
        podSelector: role('db'),
        ingress: [{ from: [{ podSelector: role('frontend') }] }],
      }),
    ],
    mutate: (c) => {
      // Their IPs belong to lab hosts that are not pods: they must not gain or lose anything.
      c.pods.push(
        pod('default', 'ghost', N2, '172.17.2.5', { role: 'frontend' }, [], { phase: 'Succeeded' }),
        pod('default', 'hostnet', N1, '192.168.7.5', { role: 'frontend' }, [], { hostNetwork: true }),
        pod('default', 'pending', N1, '', { role: 'frontend' }, [], { noIP: true, phase: 'Pending' }),
        pod('default', 'done-db', N2, '10.0.0.5', { role: 'db' }, [], { phase: 'Failed' }),
      );
    },
    ports: [tcp(80)],
    destinations: [...allPods, ...allExternals],
    expected: (c) => (db(c.to) ? fe(c.from) : true),
  },
];

for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
  describe(`dataplane: NetworkPolicy semantics on packets (${backend})`, function () {
    this.timeout(180_000);
    let lab: Lab | undefined;
    let planes: LabDataplanes;

    before(async function () {
      this.timeout(60_000);
      await cleanupStaleLabs();
      lab = await startLab(fixtureCluster().labSpec(fixtureExternals, fixturePorts));
      planes = await LabDataplanes.open(lab, backend);
    });
    after(async () => {
      await lab?.down();
    });

    for (const c of cases.filter((x) => backend === 'nft' || x.core)) {
      it(c.title, async () => {
        const l = lab as Lab;
        const state = fixtureCluster();
        state.policies = c.policies;
        c.mutate?.(state);
        await planes.program(state);
        const families = c.families ?? [4, 6];
        const cells = allCells(
          c.sources ?? [...allPods, ...allExternals],
          c.destinations ?? allPods,
          c.ports,
          families,
        );
        const results = await l.probe(cells);
        const ctx: Ctx = {
          ip: (h) => l.ipOf(h),
          node: (h) => l.plan.hosts.find((x) => x.name === h)?.node ?? '',
        };
        expectMatrix(l, results, (cell) => c.expected(cell, ctx), c.title);
        // Every isolating case denies on both paths, in both families; the fixture puts each
        // namespace on both nodes.
        for (const family of families) {
          const paths = pathsCovered(
            l,
            results.filter((r) => (r.family ?? 4) === family),
          );
          const f = `IPv${family}`;
          if (paths['same-node'].denied + paths['cross-node'].denied > 0) {
            expect(paths['same-node'].denied, `${f} same-node denied cells`).to.be.greaterThan(0);
            expect(paths['cross-node'].denied, `${f} cross-node denied cells`).to.be.greaterThan(0);
          }
          expect(paths['same-node'].allowed, `${f} same-node allowed cells`).to.be.greaterThan(0);
          expect(paths['cross-node'].allowed, `${f} cross-node allowed cells`).to.be.greaterThan(0);
        }
        if (c.rules)
          c.rules(
            new Map(
              await Promise.all([N1, N2].map(async (n) => [n, await planes.save(n)] as [string, string])),
            ),
          );
      });
    }
  });
}
