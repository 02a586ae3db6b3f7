// Who holds a namespace when tenants compete, which labels change, and what deletion does.
import { expect } from 'chai';
import { expandTenants } from '../../operator/tenant/expand.js';
import type { ExpansionResult, TenantExpansion } from '../../operator/tenant/types.js';
import { ns, tenant } from './tenant-fixtures.js';

const TL = 'tenancy.softtenant.io/tenant';
const OLD = { creationTimestamp: '2024-01-01T00:00:00Z' };
const NEW = { creationTimestamp: '2024-06-01T00:00:00Z' };

function of(result: ExpansionResult, name: string): TenantExpansion {
  const t = result.tenants.find((x) => x.tenant === name);
  if (!t) throw new Error(`no expansion for ${name}`);
  return t;
}

describe('expandTenants: namespace ownership', () => {
  it('gives a contested namespace to the older tenant and a conflict naming the owner to the other', () => {
    const result = expandTenants({
      tenants: [
        tenant('young', { namespaces: { names: ['shared', 'y'] } }, NEW),
        tenant('old', { namespaces: { names: ['shared'] } }, OLD),
      ],
      namespaces: [ns('shared'), ns('y')],
    });
    expect(of(result, 'old').namespaces).to.deep.equal(['shared']);
    expect(of(result, 'old').conflicts).to.deep.equal([]);
    expect(of(result, 'young').namespaces).to.deep.equal(['y']);
    expect(of(result, 'young').conflicts).to.deep.equal([{ namespace: 'shared', owner: 'old' }]);
    expect(of(result, 'young').policies.map((p) => p.metadata.namespace)).to.deep.equal(['y']);
  });

  it('breaks a creation-time tie by name', () => {
    const result = expandTenants({
      tenants: [
        tenant('beta', { namespaces: { names: ['s'] } }, OLD),
        tenant('alpha', { namespaces: { names: ['s'] } }, OLD),
      ],
      namespaces: [ns('s')],
    });
    expect(of(result, 'alpha').namespaces).to.deep.equal(['s']);
    expect(of(result, 'beta').conflicts).to.deep.equal([{ namespace: 's', owner: 'alpha' }]);
  });

  it('leaves a namespace with the tenant whose label it carries, even if another claimant is older', () => {
    const result = expandTenants({
      tenants: [
        tenant('old', { namespaces: { names: ['s'] } }, OLD),
        tenant('young', { namespaces: { selector: { matchLabels: { team: 'y' } } } }, NEW),
      ],
      namespaces: [ns('s', { [TL]: 'young', team: 'y' })],
    });
    expect(of(result, 'young').namespaces).to.deep.equal(['s']);
    expect(of(result, 'old').conflicts).to.deep.equal([{ namespace: 's', owner: 'young' }]);
    expect(result.labelChanges).to.deep.equal([]);
  });

  it('treats a tenant without creationTimestamp (not created yet) as the youngest', () => {
    const result = expandTenants({
      tenants: [
        tenant('aaa', { namespaces: { names: ['s'] } }),
        tenant('zzz', { namespaces: { names: ['s'] } }, NEW),
      ],
      namespaces: [ns('s')],
    });
    expect(of(result, 'zzz').namespaces).to.deep.equal(['s']);
  });

  it('reports three claimants: two conflicts, one owner', () => {
    const result = expandTenants({
      tenants: [
        tenant('a', { namespaces: { names: ['s'] } }, OLD),
        tenant('b', { namespaces: { names: ['s'] } }, NEW),
        tenant('c', { namespaces: { names: ['s'] } }, NEW),
      ],
      namespaces: [ns('s')],
    });
    expect(of(result, 'b').conflicts).to.deep.equal([{ namespace: 's', owner: 'a' }]);
    expect(of(result, 'c').conflicts).to.deep.equal([{ namespace: 's', owner: 'a' }]);
  });
});

describe('expandTenants: label changes', () => {
  it('sets the label on held namespaces that lack it or carry another value, and nowhere else', () => {
    const result = expandTenants({
      tenants: [tenant('a', { namespaces: { names: ['new', 'right', 'wrong'] } })],
      namespaces: [ns('new'), ns('right', { [TL]: 'a' }), ns('wrong', { [TL]: 'other' }), ns('unrelated')],
    });
    expect(result.labelChanges).to.deep.equal([
      { namespace: 'new', tenant: 'a' },
      { namespace: 'wrong', tenant: 'a' },
    ]);
  });

  it('removes the label from a namespace the tenant no longer claims', () => {
    const result = expandTenants({
      tenants: [tenant('a', { namespaces: { names: ['kept'] } })],
      namespaces: [ns('kept', { [TL]: 'a' }), ns('left', { [TL]: 'a' })],
    });
    expect(result.labelChanges).to.deep.equal([{ namespace: 'left', tenant: null }]);
  });

  it('removes the label naming a tenant that no longer exists', () => {
    const result = expandTenants({ tenants: [], namespaces: [ns('orphan', { [TL]: 'gone' })] });
    expect(result.labelChanges).to.deep.equal([{ namespace: 'orphan', tenant: null }]);
  });

  it('moves a namespace to the remaining claimant when its label holder stops claiming it', () => {
    const result = expandTenants({
      tenants: [
        tenant('a', { namespaces: { names: [] } }, OLD),
        tenant('b', { namespaces: { names: ['s'] } }, NEW),
      ],
      namespaces: [ns('s', { [TL]: 'a' })],
    });
    expect(result.labelChanges).to.deep.equal([{ namespace: 's', tenant: 'b' }]);
    expect(of(result, 'b').conflicts).to.deep.equal([]);
  });
});

describe('expandTenants: tenant deletion', () => {
  const deleting = {
    ...OLD,
    deletionTimestamp: '2024-07-01T00:00:00Z',
    finalizers: ['tenancy.softtenant.io/finalizer'],
  };

  it('a deleting tenant holds nothing: no policies, its labels are removed', () => {
    const result = expandTenants({
      tenants: [
        tenant(
          'a',
          { namespaces: { names: ['a1'] }, rules: [{ name: 'r', spec: { podSelector: {} } }] },
          deleting,
        ),
      ],
      namespaces: [ns('a1', { [TL]: 'a' })],
    });
    expect(of(result, 'a')).to.deep.equal({
      tenant: 'a',
      namespaces: [],
      policies: [],
      clusterNetworkPolicies: [],
      conflicts: [],
      problems: [],
    });
    expect(result.labelChanges).to.deep.equal([{ namespace: 'a1', tenant: null }]);
  });

  it('hands a contested namespace to the other claimant once the holder is being deleted', () => {
    const result = expandTenants({
      tenants: [
        tenant('a', { namespaces: { names: ['s'] } }, deleting),
        tenant('b', { namespaces: { names: ['s'] } }, NEW),
      ],
      namespaces: [ns('s', { [TL]: 'a' })],
    });
    expect(of(result, 'b').namespaces).to.deep.equal(['s']);
    expect(of(result, 'b').conflicts).to.deep.equal([]);
    expect(result.labelChanges).to.deep.equal([{ namespace: 's', tenant: 'b' }]);
  });
});
