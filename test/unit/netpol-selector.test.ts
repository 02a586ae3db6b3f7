// Label selectors: the four operators, AND of all terms, canonical keys, and the selectors the
// API server would reject.
import { expect } from 'chai';
import { compileSelector, SelectorError } from '../../operator/netpol/selector.js';

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
