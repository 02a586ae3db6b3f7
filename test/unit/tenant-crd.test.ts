// The CRD file: generated from operator/tenant/crd.ts and up to date, structural, described
// throughout, and in agreement with the TypeScript API types and the offline defaults.
// UPDATE_GOLDEN=1 rewrites crds/tenancy.softtenant.io_softtenants.yaml.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import yaml from 'js-yaml';
import type {
  IPBlock,
  LabelSelector,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicySpec,
} from '../../operator/api/networkpolicy.js';
import type { SoftTenantSpec, SoftTenantStatus, TenantPeer } from '../../operator/api/softtenant.js';
import { CRD_FILE, softTenantCrd, softTenantCrdYaml } from '../../operator/tenant/crd.js';
import type { Schema } from '../../operator/tenant/crd-schema.js';
import { withDefaults } from '../../operator/tenant/defaults.js';
import { Msg } from '../../operator/tenant/messages.js';
import { repoRoot } from './tenant-fixtures.js';

type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<T[K]> }
    : T;

// Every property of the API types, filled in. The compiler rejects a missing or an unknown one,
// so this object is exactly the shape of operator/api/softtenant.ts.
const selector: DeepRequired<LabelSelector> = {
  matchLabels: { k: 'v' },
  matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }],
};
const port: DeepRequired<NetworkPolicyPort> = { protocol: 'TCP', port: 80, endPort: 81 };
const ipBlock: DeepRequired<IPBlock> = { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] };
const npPeer: DeepRequired<NetworkPolicyPeer> = {
  ipBlock,
  namespaceSelector: selector,
  podSelector: selector,
};
const npSpec: DeepRequired<NetworkPolicySpec> = {
  podSelector: selector,
  policyTypes: ['Ingress'],
  ingress: [{ from: [npPeer], ports: [port] }],
  egress: [{ to: [npPeer], ports: [port] }],
};
const peer: DeepRequired<TenantPeer> = {
  ipBlock,
  namespaceSelector: selector,
  podSelector: selector,
  tenants: ['b'],
  ports: [port],
};
const fullSpec: DeepRequired<SoftTenantSpec> = {
  namespaces: { names: ['a'], selector },
  isolation: { ingress: 'Tenant', egress: 'Open', allowDNS: true, strict: false },
  allowFrom: [peer],
  allowTo: [peer],
  rules: [{ name: 'r', namespaces: ['a'], spec: npSpec }],
};
const fullStatus: DeepRequired<SoftTenantStatus> = {
  observedGeneration: 1,
  namespaces: ['a'],
  namespaceCount: 1,
  policies: 2,
  clusterNetworkPolicies: 2,
  enforcement: {
    nodes: 2,
    enforced: 1,
    summary: '1/2',
    lagging: [{ node: 'n', reason: 'R', message: 'm' }],
    lastEnforcedSeconds: 1.5,
  },
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Applied',
      message: 'm',
      observedGeneration: 1,
      lastTransitionTime: 't',
    },
  ],
};

function rootSchema(): Schema {
  const crd = softTenantCrd() as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  return crd.spec.versions[0]?.schema.openAPIV3Schema;
}

/** Differences between a schema and a fully populated value of the type meant to match it. */
function mismatches(schema: Schema, value: unknown, path: string): string[] {
  if (schema['x-kubernetes-int-or-string'])
    return typeof value === 'number' || typeof value === 'string' ? [] : [`${path}: not int-or-string`];
  switch (schema.type) {
    case 'object': {
      const obj = value as Record<string, unknown>;
      if (schema.additionalProperties)
        return Object.entries(obj).flatMap(([k, v]) =>
          mismatches(schema.additionalProperties as Schema, v, `${path}.${k}`),
        );
      const props = schema.properties ?? {};
      const out = [
        ...Object.keys(props)
          .filter((k) => !(k in obj))
          .map((k) => `${path}.${k}: in the CRD, not in the TypeScript type`),
        ...Object.keys(obj)
          .filter((k) => !(k in props))
          .map((k) => `${path}.${k}: in the TypeScript type, not in the CRD`),
      ];
      for (const k of Object.keys(props))
        if (k in obj) out.push(...mismatches(props[k], obj[k], `${path}.${k}`));
      return out;
    }
    case 'array':
      return Array.isArray(value) && value.length > 0
        ? mismatches(schema.items as Schema, value[0], `${path}[0]`)
        : [`${path}: not a non-empty array`];
    case 'integer':
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: not a number`];
    default:
      return typeof value === schema.type ? [] : [`${path}: not a ${schema.type}`];
  }
}

/** Every schema node with its path. */
function walk(schema: Schema, path: string, visit: (s: Schema, path: string) => void): void {
  visit(schema, path);
  for (const [k, s] of Object.entries(schema.properties ?? {})) walk(s, `${path}.${k}`, visit);
  if (schema.items) walk(schema.items, `${path}[]`, visit);
  if (schema.additionalProperties) walk(schema.additionalProperties, `${path}{}`, visit);
}

describe('SoftTenant CRD', () => {
  it(`${CRD_FILE} is up to date with operator/tenant/crd.ts`, () => {
    const file = resolve(repoRoot, CRD_FILE);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, softTenantCrdYaml());
    expect(readFileSync(file, 'utf8')).to.equal(softTenantCrdYaml());
  });

  it('has the agreed names, scope, version and status subresource', () => {
    const crd = yaml.load(readFileSync(resolve(repoRoot, CRD_FILE), 'utf8')) as {
      metadata: { name: string };
      spec: {
        group: string;
        scope: string;
        names: Record<string, unknown>;
        versions: Record<string, unknown>[];
      };
    };
    expect(crd.metadata.name).to.equal('softtenants.tenancy.softtenant.io');
    expect(crd.spec.group).to.equal('tenancy.softtenant.io');
    expect(crd.spec.scope).to.equal('Cluster');
    expect(crd.spec.names).to.deep.equal({
      kind: 'SoftTenant',
      listKind: 'SoftTenantList',
      plural: 'softtenants',
      singular: 'softtenant',
      shortNames: ['stn'],
    });
    expect(crd.spec.versions).to.have.length(1);
    expect(crd.spec.versions[0]).to.include({ name: 'v1alpha1', served: true, storage: true });
    expect(crd.spec.versions[0]?.subresources).to.deep.equal({ status: {} });
  });

  it('prints NAMESPACES, POLICIES, STRICT, ENFORCED, READY, AGE', () => {
    const crd = softTenantCrd() as {
      spec: { versions: { additionalPrinterColumns: { name: string; jsonPath: string }[] }[] };
    };
    const cols = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
    expect(cols.map((c) => [c.name.toUpperCase(), c.jsonPath])).to.deep.equal([
      ['NAMESPACES', '.status.namespaceCount'],
      ['POLICIES', '.status.policies'],
      ['STRICT', '.spec.isolation.strict'],
      ['ENFORCED', '.status.enforcement.summary'],
      ['READY', '.status.conditions[?(@.type=="Ready")].status'],
      ['AGE', '.metadata.creationTimestamp'],
    ]);
  });

  it('matches operator/api/softtenant.ts property for property (spec and status)', () => {
    const root = rootSchema();
    expect(mismatches(root.properties?.spec as Schema, fullSpec, 'spec')).to.deep.equal([]);
    expect(mismatches(root.properties?.status as Schema, fullStatus, 'status')).to.deep.equal([]);
  });

  it('the agreement check would notice a field missing on either side', () => {
    const spec = rootSchema().properties?.spec as Schema;
    const lacking: Record<string, unknown> = { ...fullSpec };
    delete lacking.allowTo;
    expect(mismatches(spec, lacking, 'spec')).to.deep.equal([
      'spec.allowTo: in the CRD, not in the TypeScript type',
    ]);
    expect(mismatches(spec, { ...fullSpec, extra: 1 }, 'spec')).to.deep.equal([
      'spec.extra: in the TypeScript type, not in the CRD',
    ]);
  });

  it('is structural: every node typed, objects with properties, arrays with items', () => {
    const bad: string[] = [];
    walk(rootSchema(), '', (s, path) => {
      if (!s.type && !s['x-kubernetes-int-or-string']) bad.push(`${path}: no type`);
      if (s.type === 'object' && !s.properties && !s.additionalProperties)
        bad.push(`${path}: object without properties`);
      if (s.type === 'array' && !s.items) bad.push(`${path}: array without items`);
    });
    expect(bad).to.deep.equal([]);
  });

  it('describes every field (so kubectl explain teaches)', () => {
    const missing: string[] = [];
    walk(rootSchema(), '', (s, path) => {
      if (path === '.metadata') return; // the API server documents ObjectMeta itself
      if (!s.description || s.description.trim().length < 3) missing.push(path || '<root>');
    });
    expect(missing).to.deep.equal([]);
  });

  it('gives every CEL rule a message from the shared table, and bounds every list it runs under', () => {
    const known = new Set<string>(Object.values(Msg));
    const problems: string[] = [];
    walk(rootSchema(), '', (s, path) => {
      for (const v of s['x-kubernetes-validations'] ?? [])
        if (!known.has(v.message)) problems.push(`${path}: message not in Msg: ${v.message}`);
      if (s.type === 'array' && path.startsWith('.spec') && s.maxItems === undefined)
        problems.push(`${path}: no maxItems`);
      if (s.type === 'string' && path.startsWith('.spec') && !s.enum && s.maxLength === undefined)
        problems.push(`${path}: no maxLength`);
    });
    expect(problems).to.deep.equal([]);
  });

  it('offline defaulting fills in what the schema declares, nested defaults of a defaulted object included', () => {
    const tenant = {
      apiVersion: 'tenancy.softtenant.io/v1alpha1' as const,
      kind: 'SoftTenant' as const,
      metadata: { name: 't' },
      spec: {
        allowFrom: [{ ports: [{ port: 80 }] }],
        allowTo: [{ ports: [{ port: 53, protocol: 'UDP' as const }] }],
        rules: [
          {
            name: 'r',
            spec: { podSelector: {}, ingress: [{ ports: [{ port: 1 }] }], egress: [{ ports: [{}] }] },
          },
        ],
      },
    };
    const before = structuredClone(tenant);
    expect(withDefaults(tenant).spec).to.deep.equal({
      isolation: { ingress: 'Tenant', egress: 'Open', allowDNS: true, strict: false },
      allowFrom: [{ ports: [{ port: 80, protocol: 'TCP' }] }],
      allowTo: [{ ports: [{ port: 53, protocol: 'UDP' }] }],
      rules: [
        {
          name: 'r',
          spec: {
            podSelector: {},
            ingress: [{ ports: [{ port: 1, protocol: 'TCP' }] }],
            egress: [{ ports: [{ protocol: 'TCP' }] }],
          },
        },
      ],
    });
    expect(tenant, 'the input is not changed').to.deep.equal(before);
    // A partial isolation keeps what it says; a null (not nullable) is dropped and defaulted.
    const partial = { ...tenant, spec: { isolation: { egress: 'Tenant' as const, allowDNS: null } } };
    expect(withDefaults(partial as never).spec.isolation).to.deep.equal({
      ingress: 'Tenant',
      egress: 'Tenant',
      allowDNS: true,
      strict: false,
    });
  });
});
