// Strict SoftTenants on packets: the point of strict mode is that a tenant cannot undo its own
// isolation. The tenant's objects come from the real expansion (expandTenants: its
// NetworkPolicies and, when strict, its Admin-tier ClusterNetworkPolicies); a tenant user adds a
// hostile NetworkPolicy that allows every ingress and egress in the tenant's namespace; both lab
// nodes are programmed through the agent's render and apply, and every source probes every
// destination over IPv4 and IPv6, on the bridged same-node and routed cross-node paths. The
// matrix must be what the independent oracle (test/support/cnp-oracle.ts) says, and cells
// written out by hand pin the point: strict, another tenant's pods (and pods of no tenant) stay
// refused and the tenant's pods cannot get out; not strict, the hostile policy lets them through.
// Making the tenant strict under open connections from another tenant cuts them.
import { expect } from 'chai';
import type { Namespace, NetworkPolicy } from '../../operator/api/networkpolicy.js';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import { API_VERSION, KIND, TENANT_LABEL } from '../../operator/api/softtenant.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import { cleanupStaleLabs } from '../lab/build.js';
import { ClusterNetworkPolicyOracle } from '../support/cnp-oracle.js';
import type { Lab, LabFlow, ProbeResult } from '../support/lab.js';
import { allCells, expectMatrix, pathsCovered, startLab } from '../support/lab.js';
import type { ClusterState } from '../support/lab-cluster.js';
import { LabDataplanes, netpol } from '../support/lab-cluster.js';
import { claimCell, connOf } from '../support/lab-claims.js';
import {
  allExternals,
  allPods,
  ext,
  fixtureCluster,
  fixtureExternals,
  fixturePorts,
  N1,
  pods,
  ports,
} from '../support/lab-fixture.js';

const { tcp, udp } = ports;

function softTenant(name: string, spec: SoftTenant['spec']): SoftTenant {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, uid: `uid-${name}`, generation: 1 }, spec };
}

/** team-a holds prod (strict or not), team-b holds dev; default and ops belong to no tenant. */
function tenants(strict: boolean): SoftTenant[] {
  return [
    softTenant('team-a', {
      namespaces: { names: ['prod'] },
      isolation: { ingress: 'Tenant', egress: 'Tenant', allowDNS: false, strict },
      allowFrom: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } },
          ports: [{ port: 9000 }],
        },
      ],
    }),
    softTenant('team-b', {
      namespaces: { names: ['dev'] },
      isolation: { ingress: 'Tenant', egress: 'Open' },
    }),
  ];
}

/** What a user allowed to write NetworkPolicies in prod can do to open it: everything, both ways. */
const hostile: NetworkPolicy = netpol('prod', 'allow-everything', {
  podSelector: {},
  policyTypes: ['Ingress', 'Egress'],
  ingress: [{}],
  egress: [{}],
});

/** The fixture cluster with the tenants' namespaces labelled (as the operator does) and their objects. */
function tenantCluster(strict: boolean): ClusterState {
  const state = fixtureCluster();
  const owner: Record<string, string> = { prod: 'team-a', dev: 'team-b' };
  state.namespaces = state.namespaces.map((n): Namespace => {
    const tenant = owner[n.metadata.name];
    return tenant
      ? { ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, [TENANT_LABEL]: tenant } } }
      : n;
  });
  const result = expandTenants({ tenants: tenants(strict), namespaces: state.namespaces });
  expect(result.tenants.flatMap((t) => t.problems)).to.deep.equal([]);
  state.policies = [...result.tenants.flatMap((t) => t.policies), hostile];
  state.clusterNetworkPolicies = result.tenants.flatMap((t) => t.clusterNetworkPolicies);
  expect(state.clusterNetworkPolicies.map((p) => p.metadata.name)).to.deep.equal(
    strict ? ['softtenant-team-a-allow', 'softtenant-team-a-deny'] : [],
  );
  return state;
}

/** [from, to, port/proto, family, allowed when strict, allowed when not] */
type Claim = [string, string, string, 4 | 6, boolean, boolean];
const claims: Claim[] = [
  // Another tenant's pods into the strict tenant: refused on both paths and families, whatever the hostile policy says.
  [pods.web1, pods.api1, 'tcp/80', 4, false, true], // same node
  [pods.web2, pods.api1, 'tcp/80', 6, false, true], // cross node
  [pods.web1, pods.api2, 'udp/53', 4, false, true],
  // Pods of no tenant: refused too, except what allowFrom allows (ops on 9000).
  [pods.db, pods.api1, 'tcp/80', 4, false, true],
  [pods.tool1, pods.api1, 'tcp/80', 6, false, true],
  [pods.tool2, pods.api1, 'tcp/9000', 4, true, true],
  // Inside the tenant: passed on to the NetworkPolicies, which allow it.
  [pods.api1, pods.api2, 'tcp/80', 4, true, true],
  [pods.api2, pods.api1, 'udp/53', 6, true, true],
  // Out of the strict tenant (egress Tenant): neither to pods of other namespaces nor to addresses outside.
  [pods.api1, pods.tool1, 'tcp/80', 4, false, true], // same node
  [pods.api2, pods.db, 'tcp/80', 6, false, true], // cross node
  // (Into team-b: its own NetworkPolicies refuse prod either way.)
  [pods.api1, pods.web1, 'tcp/80', 4, false, false],
  [pods.api1, ext.far, 'tcp/80', 4, false, true],
  // Not pods: no ClusterNetworkPolicy peer covers them, so the NetworkPolicies decide (documented).
  [ext.x1, pods.api1, 'tcp/80', 4, true, true],
];

describe('dataplane: strict tenants on packets, with a hostile allow-everything NetworkPolicy in the tenant (nft)', function () {
  this.timeout(180_000);
  let lab: Lab | undefined;
  let planes: LabDataplanes;
  const flows: LabFlow[] = [];

  before(async function () {
    this.timeout(60_000);
    await cleanupStaleLabs();
    lab = await startLab(fixtureCluster().labSpec(fixtureExternals, fixturePorts));
    planes = await LabDataplanes.open(lab, 'nft');
  });
  afterEach(async () => {
    for (const f of flows.splice(0)) await f.close().catch(() => undefined);
  });
  after(async () => {
    await lab?.down();
  });

  for (const strict of [true, false]) {
    it(
      strict
        ? 'strict: other tenants and pods of no tenant stay refused, the tenant cannot get out; inside, allowFrom and non-pods as the NetworkPolicies say'
        : 'not strict (the control): the hostile NetworkPolicy opens the tenant both ways',
      async () => {
        const l = lab as Lab;
        const state = tenantCluster(strict);
        await planes.program(state);
        const oracle = new ClusterNetworkPolicyOracle(state);
        for (const claim of claims)
          expect(oracle.allows(connOf(l, claimCell(claim))), `the oracle on ${claim.join(' ')}`).to.equal(
            strict ? claim[4] : claim[5],
          );
        const cells = allCells(
          [...allPods, ...allExternals],
          [...allPods, ext.far, ext.x1],
          [tcp(80), tcp(9000), udp(53)],
          [4, 6],
        );
        const results: ProbeResult[] = await l.probe(cells);
        expect(results).to.have.length(cells.length);
        expectMatrix(l, results, (c) => oracle.allows(connOf(l, c)), strict ? 'strict' : 'not strict');
        for (const claim of claims) {
          const cell = claimCell(claim);
          const r = results.find(
            (x) =>
              x.from === cell.from &&
              x.to === cell.to &&
              x.port === cell.port &&
              x.protocol === cell.protocol &&
              (x.family ?? 4) === (cell.family ?? 4),
          );
          expect(r?.allowed, `packets: ${claim.slice(0, 4).join(' ')}`).to.equal(
            strict ? claim[4] : claim[5],
          );
        }
        if (strict)
          for (const family of [4, 6] as const) {
            const paths = pathsCovered(
              l,
              results.filter(
                (r) =>
                  (r.family ?? 4) === family &&
                  r.to.startsWith('prod/') &&
                  !r.from.startsWith('prod/') &&
                  !r.from.startsWith('ext/'),
              ),
            );
            for (const p of ['same-node', 'cross-node'] as const) {
              expect(
                paths[p].denied,
                `IPv${family} ${p}: cells into the strict tenant refused`,
              ).to.be.greaterThan(0);
            }
          }
      },
    );
  }

  it("becoming strict cuts another tenant's open connections into the tenant (both families, both paths); the tenant's own live on", async () => {
    const l = lab as Lab;
    await planes.program(tenantCluster(false));
    const opened: LabFlow[] = [];
    for (const family of [4, 6] as const)
      opened.push(
        await l.openFlow(pods.web1, pods.api1, 80, 'TCP', 2000, family), // same node (n1)
        await l.openFlow(pods.web2, pods.api1, 80, 'TCP', 2000, family), // cross node
        await l.openFlow(pods.web1, pods.api1, 53, 'UDP', 2000, family),
      );
    const inside = await l.openFlow(pods.api2, pods.api1, 80, 'TCP');
    flows.push(...opened, inside);
    const r = await planes.program(tenantCluster(true));
    expect(r.get(N1)?.conntrack?.deleted ?? 0, 'entries deleted on n1').to.be.greaterThanOrEqual(
      opened.length,
    );
    for (const f of opened)
      expect(
        (await f.check(400)).outcome,
        `${f.id} ${f.from} -> ${f.to} ${f.protocol} after the cut`,
      ).not.to.equal('ok');
    expect((await inside.check()).outcome, "the tenant's own connection").to.equal('ok');
  });
});
