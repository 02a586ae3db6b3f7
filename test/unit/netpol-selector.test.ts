// Label selectors: the four operators, AND of all terms, canonical keys, and the selectors the
// API server would reject.
import { expect } from 'chai';
import type { LabelSelector } from '../../operator/api/networkpolicy.js';
import { API_VERSION, KIND, type SoftTenant } from '../../operator/api/softtenant.js';
import { compileSelector, SelectorError } from '../../operator/netpol/selector.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import { validateSoftTenant } from '../../operator/tenant/validate.js';

describe('netpol selectors', () => {
  const labels = { app: 'web', tier: 'fe' };

  it('{} and an absent selector match everything', () => {
    expect(compileSelector({}, 's').matches(labels)).to.equal(true);
    expect(compileSelector(undefined, 's').matches(undefined)).to.equal(true);
    expect(compileSelector({}, 's').matchesAll).to.equal(true);
  });

  it('ANDs matchLabels and every expression', () => {
    const sel = compileSelector(
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['fe', 'be'] },
          { key: 'env', operator: 'DoesNotExist' },
        ],
      },
      's',
    );
    expect(sel.matches(labels)).to.equal(true);
    expect(sel.matches({ ...labels, env: 'prod' })).to.equal(false);
    expect(sel.matches({ app: 'web', tier: 'db' })).to.equal(false);
    expect(sel.matches({ tier: 'fe' })).to.equal(false);
  });

  it('NotIn matches objects without the key; Exists does not', () => {
    expect(
      compileSelector(
        { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
        's',
      ).matches(labels),
    ).to.equal(true);
    expect(
      compileSelector({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, 's').matches(labels),
    ).to.equal(false);
  });

  it('gives equal selectors written differently the same key, different selectors different keys', () => {
    const a = compileSelector(
      {
        matchLabels: { b: '2', a: '1' },
        matchExpressions: [{ key: 'x', operator: 'In', values: ['q', 'p'] }],
      },
      's',
    );
    const b = compileSelector(
      {
        matchLabels: { a: '1', b: '2' },
        matchExpressions: [{ key: 'x', operator: 'In', values: ['p', 'q'] }],
      },
      's',
    );
    const c = compileSelector({ matchLabels: { a: '1', b: '3' } }, 's');
    expect(a.key).to.equal(b.key);
    expect(a.key).not.to.equal(c.key);
  });

  it('rejects what the API server rejects, naming the field', () => {
    expect(() =>
      compileSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 'spec.podSelector'),
    ).to.throw(SelectorError, 'spec.podSelector.matchExpressions[0]');
    expect(() =>
      compileSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 's'),
    ).to.throw(SelectorError, 'takes no values');
    expect(() =>
      compileSelector({ matchExpressions: [{ key: 'a', operator: 'Gt' as never, values: ['1'] }] }, 's'),
    ).to.throw(SelectorError, 'unknown operator');
  });
});

// The metav1.LabelSelector rules, table-tested (moved here from the tenant's own matcher, which
// this selector replaced).
describe('selector matching table', () => {
  const labels = { team: 'a', env: 'prod', empty: '' };
  const cases: [string, LabelSelector, boolean][] = [
    ['empty selector matches everything', {}, true],
    ['matchLabels equal', { matchLabels: { team: 'a' } }, true],
    ['matchLabels all must hold', { matchLabels: { team: 'a', env: 'dev' } }, false],
    ['matchLabels missing key', { matchLabels: { tier: 'web' } }, false],
    ['matchLabels empty value matches an empty label', { matchLabels: { empty: '' } }, true],
    [
      'In with the value',
      { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] },
      true,
    ],
    ['In without the value', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, false],
    ['In on a missing key', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['x'] }] }, false],
    [
      'In matches an empty value',
      { matchExpressions: [{ key: 'empty', operator: 'In', values: [''] }] },
      true,
    ],
    [
      'NotIn with another value',
      { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] },
      true,
    ],
    [
      'NotIn with the value',
      { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
      false,
    ],
    [
      'NotIn on a missing key matches',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, true],
    ['Exists on an empty value', { matchExpressions: [{ key: 'empty', operator: 'Exists' }] }, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, false],
    [
      'DoesNotExist on a missing key',
      { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
      true,
    ],
    [
      'DoesNotExist on a present key',
      { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] },
      false,
    ],
    [
      'matchLabels and matchExpressions are ANDed',
      { matchLabels: { team: 'a' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] },
      false,
    ],
  ];
  for (const [name, selector, want] of cases) {
    it(`${name} -> ${want}`, () => expect(compileSelector(selector, 's').matches(labels)).to.equal(want));
  }
});

// One semantics, decided at the input: every selector the compiled selector refuses is refused by
// the SoftTenant validator first (the CRD's schema and CEL rules say the same, see
// test/integration/crd-validation), so expansion never meets one.
describe('bad selectors are refused where they enter', () => {
  const bad: [string, LabelSelector][] = [
    ['In without values', { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }],
    ['NotIn without values', { matchExpressions: [{ key: 'a', operator: 'NotIn' }] }],
    ['Exists with values', { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }],
    ['an unknown operator', { matchExpressions: [{ key: 'a', operator: 'Equals' as 'In', values: ['x'] }] }],
    ['no key', { matchExpressions: [{ key: '', operator: 'Exists' }] }],
  ];
  for (const [name, selector] of bad) {
    it(`${name}: the validator rejects it and the compiler throws`, () => {
      const errors = validateSoftTenant({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: 't' },
        spec: { namespaces: { selector } },
      });
      expect(errors.map((e) => e.field).join(' ')).to.include('spec.namespaces.selector');
      expect(() => compileSelector(selector, 's')).to.throw(SelectorError);
    });
  }

  it('expansion fails naming the tenant and field instead of guessing', () => {
    const tenant: SoftTenant = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: 't' },
      spec: { namespaces: { selector: bad[3][1] } },
    };
    expect(() => expandTenants({ tenants: [tenant], namespaces: [] })).to.throw(
      SelectorError,
      'SoftTenant t: spec.namespaces.selector',
    );
  });
});
