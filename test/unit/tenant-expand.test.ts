// Expansion of each SoftTenant spec field, and their combinations, into namespaces and
// NetworkPolicies.
import { expect } from 'chai';
import type { NetworkPolicy, NetworkPolicySpec } from '../../operator/api/networkpolicy.js';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import type { TenantExpansion } from '../../operator/tenant/types.js';
import { deepFreeze, ns, tenant } from './tenant-fixtures.js';

const TL = 'tenancy.softtenant.io/tenant';

function expandOne(t: SoftTenant, namespaces = [ns('a1'), ns('a2')]): TenantExpansion {
  const result = expandTenants({ tenants: [t], namespaces });
  expect(result.tenants).to.have.length(1);
  return result.tenants[0];
}

function policy(e: TenantExpansion, namespace: string, name: string): NetworkPolicy {
  const p = e.policies.find((x) => x.metadata.namespace === namespace && x.metadata.name === name);
  if (!p)
    throw new Error(
      `no policy ${namespace}/${name} among ${e.policies.map((x) => `${x.metadata.namespace}/${x.metadata.name}`).join(', ')}`,
    );
  return p;
}

function names(e: TenantExpansion): string[] {
  return e.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
}

const ownNamespaces = (t: string): NetworkPolicySpec['ingress'] => [
  { from: [{ namespaceSelector: { matchLabels: { [TL]: t } } }] },
];

describe('expandTenants: namespaces', () => {
  it('holds the listed namespaces that exist, sorted, and ignores those not created yet', () => {
    const e = expandOne(tenant('a', { namespaces: { names: ['a2', 'later', 'a1'] } }));
    expect(e.namespaces).to.deep.equal(['a1', 'a2']);
    expect(e.problems).to.deep.equal([]);
  });

  it('holds namespaces matched by matchLabels and matchExpressions of the selector', () => {
    const all = [
      ns('x', { team: 'a' }),
      ns('y', { team: 'a', env: 'prod' }),
      ns('z', { team: 'b' }),
      ns('w'),
    ];
    expect(
      expandOne(tenant('a', { namespaces: { selector: { matchLabels: { team: 'a' } } } }), all).namespaces,
    ).to.deep.equal(['x', 'y']);
    const expr = tenant('a', {
      namespaces: {
        selector: {
          matchExpressions: [
            { key: 'team', operator: 'In', values: ['a', 'b'] },
            { key: 'env', operator: 'DoesNotExist' },
          ],
        },
      },
    });
    expect(expandOne(expr, all).namespaces).to.deep.equal(['x', 'z']);
  });

  it('takes the union of names and selector, without duplicates', () => {
    const all = [ns('x', { team: 'a' }), ns('y'), ns('z')];
    const e = expandOne(
      tenant('a', { namespaces: { names: ['y', 'x'], selector: { matchLabels: { team: 'a' } } } }),
      all,
    );
    expect(e.namespaces).to.deep.equal(['x', 'y']);
  });

  it('matches kubernetes.io/metadata.name even when the input namespace lacks the label', () => {
    const bare = { metadata: { name: 'bare' } };
    const e = expandOne(
      tenant('a', { namespaces: { selector: { matchLabels: { 'kubernetes.io/metadata.name': 'bare' } } } }),
      [bare],
    );
    expect(e.namespaces).to.deep.equal(['bare']);
  });

  it('leaves out terminating namespaces: no policies, no label writes', () => {
    const dying = ns('a2', {}, { deletionTimestamp: '2026-01-01T00:00:00Z' });
    const result = expandTenants({
      tenants: [tenant('a', { namespaces: { names: ['a1', 'a2'] } })],
      namespaces: [ns('a1'), dying],
    });
    expect(result.tenants[0]?.namespaces).to.deep.equal(['a1']);
    expect(result.labelChanges).to.deep.equal([{ namespace: 'a1', tenant: 'a' }]);
  });

  it('generates nothing for a tenant without namespaces', () => {
    const e = expandOne(tenant('a', {}));
    expect(e.namespaces).to.deep.equal([]);
    expect(e.policies).to.deep.equal([]);
  });
});

describe('expandTenants: ingress isolation', () => {
  it('defaults to Tenant: one isolation policy per namespace admitting the tenant namespaces', () => {
    const e = expandOne(tenant('a', { namespaces: { names: ['a1', 'a2'] } }));
    expect(names(e)).to.deep.equal(['a1/stn-a-isolation', 'a2/stn-a-isolation']);
    expect(policy(e, 'a1', 'stn-a-isolation').spec).to.deep.equal({
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: ownNamespaces('a'),
    });
  });

  it('Open with egress Open generates no isolation policy, and flags allowFrom as having no effect', () => {
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1'] },
        isolation: { ingress: 'Open' },
        allowFrom: [{ tenants: ['b'] }],
      }),
    );
    expect(e.policies).to.deep.equal([]);
    expect(e.problems).to.deep.equal([
      {
        field: 'spec.allowFrom',
        message: 'allowFrom has no effect while spec.isolation.ingress is Open: ingress is not isolated',
      },
    ]);
  });

  it('adds one rule per allowFrom entry, in order, after the tenant rule', () => {
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1'] },
        allowFrom: [
          {
            ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] },
            ports: [{ protocol: 'TCP', port: 443 }],
          },
          {
            namespaceSelector: { matchLabels: { env: 'ci' } },
            podSelector: { matchLabels: { app: 'runner' } },
          },
          { podSelector: { matchLabels: { app: 'peer' } } },
          { ports: [{ protocol: 'UDP', port: 'dns' }] },
        ],
      }),
    );
    expect(policy(e, 'a1', 'stn-a-isolation').spec.ingress).to.deep.equal([
      ...(ownNamespaces('a') ?? []),
      {
        from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }],
        ports: [{ protocol: 'TCP', port: 443 }],
      },
      {
        from: [
          {
            namespaceSelector: { matchLabels: { env: 'ci' } },
            podSelector: { matchLabels: { app: 'runner' } },
          },
        ],
      },
      { from: [{ podSelector: { matchLabels: { app: 'peer' } } }] },
      // only ports: any source, on those ports
      { ports: [{ protocol: 'UDP', port: 'dns' }] },
    ]);
  });

  it('turns tenants into a namespaceSelector on the tenant label (sorted, deduplicated), ANDed with the selectors', () => {
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1'] },
        allowFrom: [
          { tenants: ['c', 'b', 'c'] },
          {
            tenants: ['b'],
            namespaceSelector: {
              matchLabels: { env: 'prod' },
              matchExpressions: [{ key: 'tier', operator: 'Exists' }],
            },
            podSelector: { matchLabels: { app: 'api' } },
            ports: [{ protocol: 'TCP', port: 8080, endPort: 8090 }],
          },
        ],
      }),
    );
    const rules = policy(e, 'a1', 'stn-a-isolation').spec.ingress ?? [];
    expect(rules[1]).to.deep.equal({
      from: [{ namespaceSelector: { matchExpressions: [{ key: TL, operator: 'In', values: ['b', 'c'] }] } }],
    });
    expect(rules[2]).to.deep.equal({
      from: [
        {
          namespaceSelector: {
            matchLabels: { env: 'prod' },
            matchExpressions: [
              { key: 'tier', operator: 'Exists' },
              { key: TL, operator: 'In', values: ['b'] },
            ],
          },
          podSelector: { matchLabels: { app: 'api' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 8080, endPort: 8090 }],
    });
  });

  it('fills in the TCP default for ports without a protocol, as the CRD does', () => {
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1'] },
        allowFrom: [{ tenants: ['b'], ports: [{ port: 80 }, { port: 'http' }] }],
      }),
    );
    expect(policy(e, 'a1', 'stn-a-isolation').spec.ingress?.[1]?.ports).to.deep.equal([
      { protocol: 'TCP', port: 80 },
      { protocol: 'TCP', port: 'http' },
    ]);
  });
});

describe('expandTenants: egress isolation', () => {
  const dns = {
    to: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };

  it('defaults to Open: the isolation policy has no egress rules and does not isolate egress', () => {
    const e = expandOne(tenant('a', { namespaces: { names: ['a1'] } }));
    expect(names(e)).to.deep.equal(['a1/stn-a-isolation']);
    expect(policy(e, 'a1', 'stn-a-isolation').spec.policyTypes).to.deep.equal(['Ingress']);
    expect(policy(e, 'a1', 'stn-a-isolation').spec).to.not.have.property('egress');
  });

  it('Tenant allows the tenant namespaces, allowTo in order, then DNS (allowDNS defaults to true)', () => {
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1'] },
        isolation: { ingress: 'Open', egress: 'Tenant' },
        allowTo: [
          { ipBlock: { cidr: '10.0.0.0/8' }, ports: [{ protocol: 'TCP', port: 5432 }] },
          { tenants: ['b'] },
        ],
      }),
    );
    expect(names(e)).to.deep.equal(['a1/stn-a-isolation']);
    expect(policy(e, 'a1', 'stn-a-isolation').spec).to.deep.equal({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { [TL]: 'a' } } }] },
        { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
        { to: [{ namespaceSelector: { matchExpressions: [{ key: TL, operator: 'In', values: ['b'] }] } }] },
        dns,
      ],
    });
  });

  it('allowDNS false leaves DNS out', () => {
    const e = expandOne(
      tenant('a', { namespaces: { names: ['a1'] }, isolation: { egress: 'Tenant', allowDNS: false } }),
    );
    expect(policy(e, 'a1', 'stn-a-isolation').spec.egress).to.deep.equal([
      { to: [{ namespaceSelector: { matchLabels: { [TL]: 'a' } } }] },
    ]);
  });

  it('flags allowTo as having no effect while egress is Open', () => {
    const e = expandOne(tenant('a', { namespaces: { names: ['a1'] }, allowTo: [{ tenants: ['b'] }] }));
    expect(e.problems.map((p) => p.field)).to.deep.equal(['spec.allowTo']);
  });

  it('both directions Tenant: one policy per namespace isolating both, with both rule lists', () => {
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1', 'a2'] },
        isolation: { ingress: 'Tenant', egress: 'Tenant', allowDNS: false },
        allowFrom: [{ tenants: ['b'] }],
      }),
    );
    expect(names(e)).to.deep.equal(['a1/stn-a-isolation', 'a2/stn-a-isolation']);
    expect(policy(e, 'a2', 'stn-a-isolation').spec).to.deep.equal({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        ...(ownNamespaces('a') ?? []),
        { from: [{ namespaceSelector: { matchExpressions: [{ key: TL, operator: 'In', values: ['b'] }] } }] },
      ],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { [TL]: 'a' } } }] }],
    });
  });
});

describe('expandTenants: rules', () => {
  const spec: NetworkPolicySpec = {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: 'SCTP', port: 9000 }] }],
  };

  it('copies a rule verbatim into every held namespace by default', () => {
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1', 'a2'] },
        isolation: { ingress: 'Open' },
        rules: [{ name: 'web', spec }],
      }),
    );
    expect(names(e)).to.deep.equal(['a1/stn-a-rule-web', 'a2/stn-a-rule-web']);
    for (const p of e.policies) expect(p.spec).to.deep.equal(spec);
  });

  it('limits a rule to its listed namespaces and reports those the tenant does not hold', () => {
    const other = tenant(
      'b',
      { namespaces: { names: ['b1'] } },
      { creationTimestamp: '2020-01-01T00:00:00Z' },
    );
    const a = tenant(
      'a',
      {
        // With a selector (matching nothing here): rule namespaces outside names are valid input.
        namespaces: { names: ['a1', 'a2', 'pending'], selector: { matchLabels: { team: 'a' } } },
        isolation: { ingress: 'Open' },
        rules: [{ name: 'web', namespaces: ['a2', 'b1', 'stray', 'pending', 'nowhere'], spec }],
      },
      { creationTimestamp: '2021-01-01T00:00:00Z' },
    );
    const result = expandTenants({
      tenants: [a, other],
      namespaces: [ns('a1'), ns('a2'), ns('b1'), ns('stray')],
    });
    const e = result.tenants.find((t) => t.tenant === 'a') as TenantExpansion;
    expect(names(e)).to.deep.equal(['a2/stn-a-rule-web']);
    expect(e.problems).to.deep.equal([
      {
        field: 'spec.rules[0].namespaces[1]',
        message: 'namespace b1 is held by tenant b; the rule is not generated there',
      },
      {
        field: 'spec.rules[0].namespaces[2]',
        message:
          "namespace stray is not one of the tenant's namespaces (not in spec.namespaces.names and not matched by spec.namespaces.selector); the rule is not generated there",
      },
      // 'pending' is listed in names but not created yet: it joins later, nothing to report.
      {
        field: 'spec.rules[0].namespaces[4]',
        message:
          'namespace nowhere does not exist and is not in spec.namespaces.names; the rule is not generated there',
      },
    ]);
  });

  it("makes the API server's defaults explicit: policyTypes from the rules present, TCP for ports", () => {
    const egressOnly: NetworkPolicySpec = { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] };
    const ingressOnly: NetworkPolicySpec = { podSelector: {}, ingress: [{}], egress: [] };
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1'] },
        isolation: { ingress: 'Open' },
        rules: [
          { name: 'out', spec: egressOnly },
          { name: 'in', spec: ingressOnly },
        ],
      }),
    );
    expect(policy(e, 'a1', 'stn-a-rule-out').spec).to.deep.equal({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      egress: [{ ports: [{ protocol: 'TCP', port: 53 }] }],
    });
    expect(policy(e, 'a1', 'stn-a-rule-in').spec.policyTypes).to.deep.equal(['Ingress']);
  });

  it('combines the isolation policy and rules in one namespace, sorted by name', () => {
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1'] },
        isolation: { egress: 'Tenant' },
        rules: [
          { name: 'zeta', spec },
          { name: 'alpha', spec },
        ],
      }),
    );
    expect(names(e)).to.deep.equal(['a1/stn-a-isolation', 'a1/stn-a-rule-alpha', 'a1/stn-a-rule-zeta']);
  });
});

describe('expandTenants: generated metadata', () => {
  it('labels only managed-by and tenant (never the SoftTenant labels), annotates the source, owns via uid', () => {
    const t = tenant(
      'a',
      {
        namespaces: { names: ['a1'] },
        isolation: { egress: 'Tenant' },
        rules: [{ name: 'r', spec: { podSelector: {} } }],
      },
      {
        uid: 'uid-1',
        labels: { 'argocd.argoproj.io/instance': 'tenants', team: 'a' },
        annotations: { note: 'x' },
      },
    );
    const e = expandOne(t);
    for (const p of e.policies) {
      expect(p.apiVersion).to.equal('networking.k8s.io/v1');
      expect(p.kind).to.equal('NetworkPolicy');
      expect(p.metadata.labels).to.deep.equal({ 'app.kubernetes.io/managed-by': 'softtenant', [TL]: 'a' });
      expect(p.metadata.ownerReferences).to.deep.equal([
        {
          apiVersion: 'tenancy.softtenant.io/v1alpha1',
          kind: 'SoftTenant',
          name: 'a',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    expect(e.policies.map((p) => p.metadata.annotations?.['tenancy.softtenant.io/source'])).to.deep.equal([
      'isolation',
      'rule/r',
    ]);
  });

  it('has no ownerReferences when the uid is not known (offline input)', () => {
    const e = expandOne(tenant('a', { namespaces: { names: ['a1'] } }));
    expect(e.policies[0]?.metadata).to.not.have.property('ownerReferences');
  });

  it('keeps generated names within 63 characters, hashing long ones', () => {
    const long = 'r'.repeat(60);
    const e = expandOne(
      tenant('a', {
        namespaces: { names: ['a1'] },
        isolation: { ingress: 'Open' },
        rules: [{ name: long, spec: { podSelector: {} } }],
      }),
    );
    const name = e.policies[0]?.metadata.name ?? '';
    expect(name).to.have.length.at.most(63);
    expect(name).to.match(/^stn-a-rule-r+-[0-9a-f]{10}$/);
  });
});

describe('expandTenants: purity and stable output', () => {
  const tenants = (): SoftTenant[] => [
    tenant(
      'b',
      { namespaces: { selector: { matchLabels: { team: 'b' } } }, allowFrom: [{ tenants: ['a'] }] },
      { creationTimestamp: '2024-01-02T00:00:00Z' },
    ),
    tenant(
      'a',
      { namespaces: { names: ['a1', 'a2', 'shared'] }, isolation: { egress: 'Tenant' } },
      { creationTimestamp: '2024-01-01T00:00:00Z' },
    ),
  ];
  const namespaces = () => [ns('shared', { team: 'b' }), ns('b2', { team: 'b' }), ns('a2'), ns('a1')];

  it('does not modify its input', () => {
    const input = deepFreeze({ tenants: tenants(), namespaces: namespaces() });
    const snapshot = JSON.stringify(input);
    expandTenants(input);
    expect(JSON.stringify(input)).to.equal(snapshot);
  });

  it('gives the same result, byte for byte, whatever the input order', () => {
    const first = JSON.stringify(expandTenants({ tenants: tenants(), namespaces: namespaces() }));
    const second = JSON.stringify(
      expandTenants({ tenants: tenants().reverse(), namespaces: namespaces().reverse() }),
    );
    expect(second).to.equal(first);
  });

  it('sorts tenants by name, policies by namespace then name, label changes by namespace', () => {
    const result = expandTenants({ tenants: tenants(), namespaces: namespaces() });
    expect(result.tenants.map((t) => t.tenant)).to.deep.equal(['a', 'b']);
    const a = result.tenants[0];
    expect(names(a)).to.deep.equal([...names(a)].sort());
    expect(result.labelChanges.map((c) => c.namespace)).to.deep.equal(['a1', 'a2', 'b2', 'shared']);
  });

  it('returns policies that share nothing with the input (safe to mutate)', () => {
    const t = tenant('a', {
      namespaces: { names: ['a1'] },
      allowFrom: [{ podSelector: { matchLabels: { x: 'y' } } }],
    });
    const e = expandOne(t);
    const from = e.policies[0]?.spec.ingress?.[1]?.from?.[0];
    expect(from?.podSelector).to.not.equal(t.spec.allowFrom?.[0]?.podSelector);
  });
});
