// The ownership index: which tenants claim which namespaces, kept up to date event by event,
// and the scope one reconcile reads. Table-tested: each row is a sequence of changes and what
// the index answers afterwards.
import { expect } from 'chai';
import type { Namespace } from '../../operator/api/networkpolicy.js';
import { TENANT_LABEL, type SoftTenant } from '../../operator/api/softtenant.js';
import { OwnershipIndex } from '../../operator/controller/ownership-index.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import { ns, tenant } from './tenant-fixtures.js';

type Step =
  | { tenant: SoftTenant; wakes?: string[] }
  | { dropTenant: string; wakes?: string[] }
  | { namespace: Namespace; wakes?: string[] }
  | { dropNamespace: string; wakes?: string[] };

interface Row {
  name: string;
  steps: Step[];
  claimants: Record<string, string[]>;
  scope?: Record<string, { namespaces: string[]; tenants: string[] }>;
}

const TEAM = (v: string): { selector: { matchLabels: { team: string } } } => ({
  selector: { matchLabels: { team: v } },
});

const rows: Row[] = [
  {
    name: 'a claim by name, made before the namespace exists',
    steps: [
      { tenant: tenant('a', { namespaces: { names: ['n1'] } }), wakes: ['a'] },
      { namespace: ns('n1'), wakes: ['a'] },
      { namespace: ns('n2'), wakes: [] },
    ],
    claimants: { n1: ['a'], n2: [] },
    scope: { a: { namespaces: ['n1'], tenants: ['a'] } },
  },
  {
    name: 'release: the tenant stops naming the namespace',
    steps: [
      { namespace: ns('n1', { [TENANT_LABEL]: 'a' }) },
      { tenant: tenant('a', { namespaces: { names: ['n1'] } }), wakes: ['a'] },
      { tenant: tenant('a', { namespaces: { names: [] } }), wakes: ['a'] },
    ],
    claimants: { n1: [] },
    // Still labelled for a: a's reconcile must see it to remove the label.
    scope: { a: { namespaces: ['n1'], tenants: ['a'] } },
  },
  {
    name: 'two tenants on one namespace: each one\u2019s scope holds the other',
    steps: [
      { namespace: ns('shared') },
      { tenant: tenant('a', { namespaces: { names: ['shared', 'only-a'] } }), wakes: ['a'] },
      { tenant: tenant('b', { namespaces: { names: ['shared'] } }), wakes: ['a', 'b'] },
      { namespace: ns('only-a'), wakes: ['a'] },
    ],
    claimants: { shared: ['a', 'b'], 'only-a': ['a'] },
    scope: {
      a: { namespaces: ['only-a', 'shared'], tenants: ['a', 'b'] },
      b: { namespaces: ['shared'], tenants: ['a', 'b'] },
    },
  },
  {
    name: 'selector changes: a relabelled namespace wakes the selectors it matched before and after',
    steps: [
      { namespace: ns('n', { team: 'x' }) },
      { tenant: tenant('x', { namespaces: TEAM('x') }), wakes: ['x'] },
      { tenant: tenant('y', { namespaces: TEAM('y') }), wakes: ['y'] },
      { tenant: tenant('z', { namespaces: TEAM('z') }), wakes: ['z'] },
      { namespace: ns('n', { team: 'y' }), wakes: ['x', 'y'] },
    ],
    claimants: { n: ['y'] },
  },
  {
    name: 'a tenant\u2019s selector change wakes the tenants of the namespaces it claimed and claims',
    steps: [
      { namespace: ns('n1', { team: 'x' }) },
      { namespace: ns('n2', { team: 'y' }) },
      { tenant: tenant('x', { namespaces: TEAM('x') }) },
      { tenant: tenant('other', { namespaces: { names: ['n2'] } }) },
      { tenant: tenant('x', { namespaces: TEAM('y') }), wakes: ['other', 'x'] },
    ],
    claimants: { n1: [], n2: ['other', 'x'] },
  },
  {
    name: 'names and a selector together: the named namespace and those the selector matches',
    steps: [
      { namespace: ns('named') },
      { namespace: ns('selected', { team: 'x' }) },
      { namespace: ns('neither', { team: 'y' }) },
      {
        tenant: tenant('a', { namespaces: { names: ['named', 'missing'], ...TEAM('x') } }),
        wakes: ['a'],
      },
      { namespace: ns('missing'), wakes: ['a'] },
    ],
    claimants: { named: ['a'], selected: ['a'], neither: [], missing: ['a'] },
  },
  {
    name: 'a status-only change wakes the tenant alone',
    steps: [
      { namespace: ns('n1') },
      { tenant: tenant('a', { namespaces: { names: ['n1'] } }) },
      { tenant: tenant('b', { namespaces: { names: ['n1'] } }) },
      {
        tenant: { ...tenant('a', { namespaces: { names: ['n1'] } }), status: { policies: 3 } },
        wakes: ['a'],
      },
    ],
    claimants: { n1: ['a', 'b'] },
  },
  {
    name: 'a tenant being deleted claims nothing; its labelled namespaces stay in its scope',
    steps: [
      { namespace: ns('n1', { [TENANT_LABEL]: 'a' }) },
      { tenant: tenant('b', { namespaces: { names: ['n1'] } }) },
      { tenant: tenant('a', { namespaces: { names: ['n1'] } }) },
      {
        tenant: tenant('a', { namespaces: { names: ['n1'] } }, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
        wakes: ['a', 'b'],
      },
    ],
    claimants: { n1: ['b'] },
    scope: { a: { namespaces: ['n1'], tenants: ['a', 'b'] } },
  },
  {
    name: 'a deleted namespace wakes its claimants and the tenant its label names',
    steps: [
      { namespace: ns('n1', { [TENANT_LABEL]: 'gone' }) },
      { tenant: tenant('a', { namespaces: { names: ['n1'] } }) },
      { dropNamespace: 'n1', wakes: ['a', 'gone'] },
    ],
    claimants: { n1: [] },
    scope: { a: { namespaces: [], tenants: ['a'] } },
  },
  {
    name: 'a namespace a rule names wakes the rule\u2019s tenant (its status names the holder)',
    steps: [
      {
        tenant: tenant('r', {
          namespaces: { names: ['mine'] },
          rules: [{ name: 'x', namespaces: ['theirs'], spec: { podSelector: {} } }],
        }),
      },
      { namespace: ns('theirs'), wakes: ['r'] },
      { tenant: tenant('t', { namespaces: { names: ['theirs'] } }), wakes: ['r', 't'] },
    ],
    claimants: { theirs: ['t'] },
    scope: { r: { namespaces: ['theirs'], tenants: ['r', 't'] } },
  },
  {
    name: 'a deleted tenant wakes the tenants it competed with',
    steps: [
      { namespace: ns('n1') },
      { tenant: tenant('a', { namespaces: { names: ['n1'] } }) },
      { tenant: tenant('b', { namespaces: { names: ['n1'] } }) },
      { dropTenant: 'a', wakes: ['a', 'b'] },
    ],
    claimants: { n1: ['b'] },
  },
];

function apply(index: OwnershipIndex, step: Step): string[] {
  if ('tenant' in step) return index.setTenant(step.tenant);
  if ('dropTenant' in step) return index.removeTenant(step.dropTenant);
  if ('namespace' in step) return index.setNamespace(step.namespace);
  return index.removeNamespace(step.dropNamespace);
}

describe('operator: the ownership index', function () {
  for (const row of rows) {
    it(row.name, function () {
      const index = new OwnershipIndex();
      row.steps.forEach((step, i) => {
        const woken = apply(index, step);
        if (step.wakes) expect(woken, `step ${i} wakes`).to.deep.equal(step.wakes);
      });
      for (const [namespace, claimants] of Object.entries(row.claimants)) {
        expect(index.claimantsOf(namespace), `claimants of ${namespace}`).to.deep.equal(claimants);
      }
      for (const [t, scope] of Object.entries(row.scope ?? {})) {
        expect(index.scopeOf(t), `scope of ${t}`).to.deep.equal(scope);
      }
    });
  }

  it('a scope decides its namespaces as the whole cluster does (first claim wins)', function () {
    // Random clusters: tenants naming and selecting namespaces, some labelled already.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 40; round++) {
      const namespaces = Array.from({ length: 12 }, (_, i) => {
        const labels: Record<string, string> = { team: `t${random(3)}` };
        if (random(3) === 0) labels[TENANT_LABEL] = `ten${random(6)}`;
        return ns(`ns${i}`, labels);
      });
      const tenants = Array.from({ length: 6 }, (_, i) =>
        tenant(
          `ten${i}`,
          {
            namespaces:
              random(2) === 0
                ? { names: [`ns${random(12)}`, `ns${random(12)}`] }
                : { selector: { matchLabels: { team: `t${random(3)}` } } },
          },
          { creationTimestamp: `2026-01-01T00:00:0${random(10)}Z` },
        ),
      );
      const index = new OwnershipIndex();
      for (const n of namespaces) index.setNamespace(n);
      for (const t of tenants) index.setTenant(t);
      const whole = expandTenants({ tenants, namespaces });
      for (const t of tenants) {
        const scope = index.scopeOf(t.metadata.name);
        const part = expandTenants({
          tenants: tenants.filter((x) => scope.tenants.includes(x.metadata.name)),
          namespaces: namespaces.filter((n) => scope.namespaces.includes(n.metadata.name)),
        });
        const name = t.metadata.name;
        expect(
          part.tenants.find((x) => x.tenant === name),
          `round ${round} ${name}`,
        ).to.deep.equal(whole.tenants.find((x) => x.tenant === name));
        const mine = (c: { namespace: string }): boolean => scope.namespaces.includes(c.namespace);
        expect(part.labelChanges.filter(mine)).to.deep.equal(whole.labelChanges.filter(mine));
      }
    }
  });
});
