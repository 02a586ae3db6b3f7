// Label selector matching, table-tested against the metav1.LabelSelector rules.
import { expect } from 'chai';
import type { LabelSelector } from '../../operator/api/networkpolicy.js';
import { selectorPredicate } from '../../operator/tenant/selector.js';

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
  ['Exists on a missing key', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, false],
  ['DoesNotExist on a missing key', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, true],
  ['DoesNotExist on a present key', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, false],
  [
    'matchLabels and matchExpressions are ANDed',
    { matchLabels: { team: 'a' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] },
    false,
  ],
  [
    'an unknown operator selects nothing',
    { matchExpressions: [{ key: 'team', operator: 'Equals' as 'In', values: ['a'] }] },
    false,
  ],
];

describe('selectorPredicate', () => {
  for (const [name, selector, want] of cases) {
    it(`${name} -> ${want}`, () => expect(selectorPredicate(selector)(labels)).to.equal(want));
  }
});
