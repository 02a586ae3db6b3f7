// Strict tenants, pure: the ClusterNetworkPolicies the expansion generates, judged by the
// independent ClusterNetworkPolicy oracle (test/support/cnp-oracle.ts) together with the
// tenant's generated NetworkPolicies and a hostile "allow everything" NetworkPolicy a tenant user
// wrote: another tenant's pods stay out, allowFrom/allowTo/DNS stay open, traffic inside the
// tenant is the NetworkPolicies' to decide; without strict the hostile policy opens the tenant.
// Then the shape: names, priorities, labels, owner, rule order, ports; the agent's model
// programs them without a problem; the CRD's CEL refuses what cannot be expressed.
import { expect } from 'chai';
import type { ClusterNetworkPolicy } from '../../operator/api/clusternetworkpolicy.js';
import type { Namespace, NetworkPolicy, Pod, Protocol } from '../../operator/api/networkpolicy.js';
import { TENANT_LABEL, type SoftTenant, type SoftTenantSpec } from '../../operator/api/softtenant.js';
import { buildCnpNodeModel } from '../../operator/cnp/model.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import { expansionDocuments } from '../../operator/tenant/output.js';
import {
  clusterNetworkPolicyName,
  STRICT_ALLOW_PRIORITY,
  STRICT_DENY_PRIORITY,
  STRICT_PRIORITY_BAND,
} from '../../operator/tenant/strict.js';
import { Msg } from '../../operator/tenant/messages.js';
import { validateSoftTenant } from '../../operator/tenant/validate.js';
import { ClusterNetworkPolicyOracle } from '../support/cnp-oracle.js';
import { pod, policy } from './netpol-fixtures.js';
import { ns, tenant } from './tenant-fixtures.js';

const IP = {
  a1: '10.1.0.1',
  a2: '10.1.0.2',
  b1: '10.2.0.1',
  mon: '10.3.0.1',
  other: '10.3.0.2',
  dns: '10.4.0.1',
  node: '10.250.0.1',
  api: '192.0.2.7',
  web: '198.51.100.9',
};

const namespaces: Namespace[] = [
  ns('a-1'),
  ns('a-2'),
  ns('b-1'),
  ns('monitoring', { role: 'monitoring' }),
  ns('other'),
  ns('kube-system'),
];

const pods: Pod[] = [
  pod('a-1', 'a1', { ip: IP.a1, labels: { app: 'web' } }),
  pod('a-2', 'a2', { ip: IP.a2, labels: { app: 'db' } }),
  pod('b-1', 'b1', { ip: IP.b1 }),
  pod('monitoring', 'prom', { ip: IP.mon, labels: { app: 'prometheus' } }),
  pod('other', 'o1', { ip: IP.other }),
  pod('kube-system', 'coredns', { ip: IP.dns, labels: { 'k8s-app': 'kube-dns' } }),
  pod('kube-system', 'hostnet', { ip: IP.node, hostNetwork: true }),
];

/** What a tenant user can write in their own namespace: every pod open, both ways. */
const hostile: NetworkPolicy = policy('a-1', 'allow-everything', {
  podSelector: {},
  policyTypes: ['Ingress', 'Egress'],
  ingress: [{}],
  egress: [{}],
});

function teamA(strict: boolean, extra: Partial<SoftTenantSpec> = {}): SoftTenant {
  return tenant(
    'team-a',
    {
      namespaces: { names: ['a-1', 'a-2'] },
      isolation: { ingress: 'Tenant', egress: 'Tenant', strict },
      allowFrom: [
        {
          namespaceSelector: { matchLabels: { role: 'monitoring' } },
          ports: [{ protocol: 'TCP', port: 9090 }],
        },
      ],
      allowTo: [{ ipBlock: { cidr: '192.0.2.0/24' }, ports: [{ protocol: 'TCP', port: 443 }] }],
      ...extra,
    },
    { uid: 'uid-team-a' },
  );
}

const teamB = tenant('team-b', { namespaces: { names: ['b-1'] } }, { uid: 'uid-team-b' });

interface World {
  oracle: ClusterNetworkPolicyOracle;
  cnps: ClusterNetworkPolicy[];
  namespaces: Namespace[];
}

/** The cluster after the operator converged: labels set, policies and CNPs written, plus the hostile policy. */
function world(a: SoftTenant): World {
  const result = expandTenants({ tenants: [a, teamB], namespaces });
  const labelled = namespaces.map((n) => {
    const change = result.labelChanges.find((c) => c.namespace === n.metadata.name);
    if (!change?.tenant) return n;
    return {
      ...n,
      metadata: { ...n.metadata, labels: { ...n.metadata.labels, [TENANT_LABEL]: change.tenant } },
    };
  });
  const generated = result.tenants.flatMap((t) => t.policies);
  const cnps = result.tenants.flatMap((t) => t.clusterNetworkPolicies);
  const oracle = new ClusterNetworkPolicyOracle({
    namespaces: labelled,
    pods,
    policies: [...generated, hostile],
    clusterNetworkPolicies: cnps,
  });
  return { oracle, cnps, namespaces: labelled };
}

const conn = (src: string, dst: string, port: number, protocol: Protocol = 'TCP') => ({
  src,
  dst,
  port,
  protocol,
});

describe('strict tenants: ClusterNetworkPolicies judged by the oracle', () => {
  const strict = world(teamA(true));
  const open = world(teamA(false));
  const cases: [string, ReturnType<typeof conn>, 'allow' | 'deny', 'allow' | 'deny'][] = [
    // [what, connection, verdict when strict, verdict when not strict (hostile policy in a-1)]
    ["another tenant's pod into the tenant", conn(IP.b1, IP.a1, 80), 'deny', 'allow'],
    ['a pod of no tenant into the tenant', conn(IP.other, IP.a1, 80), 'deny', 'allow'],
    ['allowFrom (monitoring) on its port', conn(IP.mon, IP.a1, 9090), 'allow', 'allow'],
    ['allowFrom (monitoring) on another port', conn(IP.mon, IP.a1, 80), 'deny', 'allow'],
    ['inside the tenant, across its namespaces', conn(IP.a2, IP.a1, 80), 'allow', 'allow'],
    ['the tenant to a pod of no tenant', conn(IP.a1, IP.other, 80), 'deny', 'allow'],
    // team-b's own (non-strict) ingress isolation refuses it either way.
    ['the tenant to another tenant', conn(IP.a1, IP.b1, 80), 'deny', 'deny'],
    ['the tenant to DNS (UDP 53)', conn(IP.a1, IP.dns, 53, 'UDP'), 'allow', 'allow'],
    ['the tenant to DNS (TCP 53)', conn(IP.a1, IP.dns, 53), 'allow', 'allow'],
    ['the tenant to the DNS pod on another port', conn(IP.a1, IP.dns, 8080), 'deny', 'allow'],
    ['allowTo (192.0.2.0/24) on its port', conn(IP.a1, IP.api, 443), 'allow', 'allow'],
    ['allowTo network on another port', conn(IP.a1, IP.api, 80), 'deny', 'allow'],
    ['an address outside allowTo', conn(IP.a1, IP.web, 443), 'deny', 'allow'],
    ['the tenant to a node address', conn(IP.a1, IP.node, 10250), 'deny', 'allow'],
    // Not a pod: no ClusterNetworkPolicy ingress peer matches it; the NetworkPolicies decide.
    ['a node or host-network pod into the tenant', conn(IP.node, IP.a1, 80), 'allow', 'allow'],
    ['an address outside the cluster into the tenant', conn(IP.web, IP.a1, 80), 'allow', 'allow'],
  ];
  for (const [what, c, whenStrict, whenOpen] of cases) {
    it(`${what}: ${whenStrict} when strict, ${whenOpen} when not`, () => {
      expect(strict.oracle.verdict(c), 'strict').to.equal(whenStrict);
      expect(open.oracle.verdict(c), 'not strict').to.equal(whenOpen);
    });
  }

  it('a2 (a-2, no hostile policy) is governed by the generated NetworkPolicies inside the tenant', () => {
    // The monitoring entry is allowed through by both layers; b1 is refused by both.
    expect(strict.oracle.verdict(conn(IP.mon, IP.a2, 9090))).to.equal('allow');
    expect(strict.oracle.verdict(conn(IP.b1, IP.a2, 9090))).to.equal('deny');
    expect(strict.oracle.verdict(conn(IP.a1, IP.a2, 5432))).to.equal('allow');
  });

  it('a tenant that is not strict gets no ClusterNetworkPolicy', () => {
    expect(open.cnps).to.deep.equal([]);
  });

  it('allowFrom by tenants and pods, and an entry with only ports, keep their meaning', () => {
    const w = world(
      teamA(true, {
        allowFrom: [
          { tenants: ['team-b'], podSelector: { matchLabels: { app: 'nothing' } } },
          { ports: [{ protocol: 'TCP', port: 8443 }] },
          { ipBlock: { cidr: '10.2.0.0/16' } },
        ],
      }),
    );
    // b1 has no app=nothing label; the pods-only entry admits everyone on 8443; the ipBlock
    // covers b1's address but admits no pod outside the tenant (documented).
    expect(w.oracle.verdict(conn(IP.b1, IP.a2, 80))).to.equal('deny');
    expect(w.oracle.verdict(conn(IP.b1, IP.a2, 8443))).to.equal('allow');
    expect(w.oracle.verdict(conn(IP.other, IP.a1, 8443))).to.equal('allow');
    expect(w.oracle.verdict(conn(IP.b1, IP.a1, 80))).to.equal('deny');
  });

  it('egress Open: only the ingress side is strict', () => {
    const w = world(
      teamA(true, { isolation: { ingress: 'Tenant', egress: 'Open', strict: true }, allowTo: [] }),
    );
    expect(w.oracle.verdict(conn(IP.b1, IP.a1, 80))).to.equal('deny');
    expect(w.oracle.verdict(conn(IP.a2, IP.web, 443))).to.equal('allow');
    for (const c of w.cnps) expect(c.spec.egress, c.metadata.name).to.equal(undefined);
  });

  it('ingress Open: only the egress side is strict', () => {
    const w = world(
      teamA(true, { isolation: { ingress: 'Open', egress: 'Tenant', strict: true }, allowFrom: [] }),
    );
    expect(w.oracle.verdict(conn(IP.b1, IP.a2, 80))).to.equal('allow');
    expect(w.oracle.verdict(conn(IP.a1, IP.other, 80))).to.equal('deny');
    for (const c of w.cnps) expect(c.spec.ingress, c.metadata.name).to.equal(undefined);
  });
});

describe('strict tenants: the generated ClusterNetworkPolicies', () => {
  const { cnps, namespaces: labelled } = world(teamA(true));
  const [allow, deny] = cnps;

  it('are softtenant-<tenant>-allow at 700 and softtenant-<tenant>-deny at 750, Admin, in the band', () => {
    expect(cnps.map((c) => [c.metadata.name, c.spec.tier, c.spec.priority])).to.deep.equal([
      ['softtenant-team-a-allow', 'Admin', STRICT_ALLOW_PRIORITY],
      ['softtenant-team-a-deny', 'Admin', STRICT_DENY_PRIORITY],
    ]);
    for (const c of cnps) {
      expect(c.spec.priority).to.be.within(STRICT_PRIORITY_BAND.first, STRICT_PRIORITY_BAND.last);
      expect(c.apiVersion).to.equal('policy.networking.k8s.io/v1beta1');
    }
  });

  it('carry the managed-by and tenant labels, the source annotation and a controller reference', () => {
    for (const c of cnps) {
      expect(c.metadata.labels).to.deep.equal({
        'app.kubernetes.io/managed-by': 'softtenant',
        [TENANT_LABEL]: 'team-a',
      });
      expect(c.metadata.annotations?.['tenancy.softtenant.io/source']).to.match(/^strict\/(allow|deny)$/);
      expect(c.metadata.ownerReferences).to.deep.equal([
        {
          apiVersion: 'tenancy.softtenant.io/v1alpha1',
          kind: 'SoftTenant',
          name: 'team-a',
          uid: 'uid-team-a',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(c.spec.subject).to.deep.equal({ namespaces: { matchLabels: { [TENANT_LABEL]: 'team-a' } } });
    }
  });

  it('allow: Pass for the tenant first, then Accept for DNS and each entry, ports as protocols', () => {
    expect(allow?.spec.ingress?.map((r) => [r.name, r.action])).to.deep.equal([
      ['tenant', 'Pass'],
      ['spec.allowFrom[0]', 'Accept'],
    ]);
    expect(allow?.spec.ingress?.[1]?.protocols).to.deep.equal([
      { tcp: { destinationPort: { number: 9090 } } },
    ]);
    expect(allow?.spec.egress?.map((r) => [r.name, r.action])).to.deep.equal([
      ['tenant', 'Pass'],
      ['dns', 'Accept'],
      ['spec.allowTo[0]', 'Accept'],
    ]);
    expect(allow?.spec.egress?.[2]?.to).to.deep.equal([{ networks: ['192.0.2.0/24'] }]);
  });

  it('deny: every pod in, every address out', () => {
    expect(deny?.spec.ingress).to.deep.equal([
      { name: 'outside-tenant', action: 'Deny', from: [{ namespaces: {} }] },
    ]);
    expect(deny?.spec.egress).to.deep.equal([
      { name: 'outside-tenant', action: 'Deny', to: [{ networks: ['0.0.0.0/0', '::/0'] }] },
    ]);
  });

  it('port ranges and protocol-only ports become ranges', () => {
    const t = teamA(true, {
      allowFrom: [
        {
          tenants: ['team-b'],
          ports: [
            { protocol: 'UDP', port: 5000, endPort: 5100 },
            { protocol: 'SCTP' },
            { protocol: 'TCP', port: 80, endPort: 80 },
          ],
        },
      ],
    });
    const [a] = expandTenants({ tenants: [t], namespaces }).tenants[0]?.clusterNetworkPolicies ?? [];
    expect(a?.spec.ingress?.[1]).to.deep.equal({
      name: 'spec.allowFrom[0]',
      action: 'Accept',
      from: [
        { namespaces: { matchExpressions: [{ key: TENANT_LABEL, operator: 'In', values: ['team-b'] }] } },
      ],
      protocols: [
        { udp: { destinationPort: { range: { start: 5000, end: 5100 } } } },
        { sctp: { destinationPort: { range: { start: 1, end: 65535 } } } },
        { tcp: { destinationPort: { number: 80 } } },
      ],
    });
  });

  it("the agent's model programs them with no problem on the tenant's node", () => {
    const model = buildCnpNodeModel({
      namespaces: labelled,
      pods,
      clusterNetworkPolicies: cnps,
      node: pods[0]?.spec.nodeName ?? '',
    });
    expect(model.problems).to.deep.equal([]);
    expect(model.policies.map((p) => [p.name, p.programmable, p.localPods])).to.deep.equal([
      ['softtenant-team-a-allow', true, ['a-1/a1', 'a-2/a2']],
      ['softtenant-team-a-deny', true, ['a-1/a1', 'a-2/a2']],
    ]);
  });

  it('long tenant names give names of at most 63 characters, distinct per purpose', () => {
    const long = 'x'.repeat(63);
    const names = [clusterNetworkPolicyName(long, 'allow'), clusterNetworkPolicyName(long, 'deny')];
    for (const n of names) expect(n.length).to.be.at.most(63);
    expect(names[0]).to.not.equal(names[1]);
  });

  it('a tenant being deleted wants none; expand prints them after the NetworkPolicies', () => {
    const deleting = teamA(true);
    deleting.metadata.deletionTimestamp = '2026-12-01T00:00:00Z';
    expect(
      expandTenants({ tenants: [deleting], namespaces }).tenants[0]?.clusterNetworkPolicies,
    ).to.deep.equal([]);
    const docs = expansionDocuments(expandTenants({ tenants: [teamA(true)], namespaces }));
    expect(docs.map((d) => d.object.kind).slice(-3)).to.deep.equal([
      'NetworkPolicy',
      'ClusterNetworkPolicy',
      'ClusterNetworkPolicy',
    ]);
  });
});

describe('strict tenants: what the CRD refuses (offline validator, same schema and CEL)', () => {
  const base = (spec: SoftTenantSpec): unknown => ({
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'SoftTenant',
    metadata: { name: 't' },
    spec,
  });
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ tenants: [`t${i}`] }));
  const cases: [string, SoftTenantSpec, string | undefined][] = [
    [
      'strict with both directions Open',
      { isolation: { ingress: 'Open', strict: true } },
      Msg.strictNeedsIsolation,
    ],
    [
      'strict with 25 allowFrom entries',
      { isolation: { strict: true }, allowFrom: many(25) },
      Msg.strictAllowFromSize,
    ],
    ['strict with 24 allowFrom entries', { isolation: { strict: true }, allowFrom: many(24) }, undefined],
    [
      'strict with 24 allowTo entries',
      { isolation: { egress: 'Tenant', strict: true }, allowTo: many(24) },
      Msg.strictAllowToSize,
    ],
    [
      'strict with a named port in allowFrom',
      { isolation: { strict: true }, allowFrom: [{ ports: [{ port: 'http' }] }] },
      Msg.strictAllowFromPorts,
    ],
    [
      'strict with 26 ports in an allowTo entry',
      {
        isolation: { egress: 'Tenant', strict: true },
        allowTo: [{ ports: Array.from({ length: 26 }, (_, i) => ({ port: 1000 + i })) }],
      },
      Msg.strictAllowToPorts,
    ],
    [
      'strict with except in an allowTo ipBlock',
      {
        isolation: { egress: 'Tenant', strict: true },
        allowTo: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
      },
      Msg.strictAllowToExcept,
    ],
    [
      'not strict: all of that is fine',
      { isolation: { ingress: 'Open' }, allowFrom: [{ ports: [{ port: 'http' }] }], allowTo: many(30) },
      undefined,
    ],
  ];
  for (const [what, spec, message] of cases) {
    it(`${what}: ${message ? 'refused' : 'accepted'}`, () => {
      const errors = validateSoftTenant(base(spec) as never).map((e) => e.message);
      if (message) expect(errors.join('\n')).to.contain(message);
      else expect(errors).to.deep.equal([]);
    });
  }
});
