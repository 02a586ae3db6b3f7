// Generated policy names: deterministic, DNS-safe, at most 63 characters, distinct per source.
import { expect } from 'chai';
import { policyName, sourceValue } from '../../operator/tenant/naming.js';
import { isDnsLabel } from '../../operator/tenant/syntax.js';

describe('policyName', () => {
  it('names short sources plainly', () => {
    expect(policyName('team-a', { kind: 'isolation' })).to.equal('stn-team-a-isolation');
    expect(policyName('team-a', { kind: 'rule', rule: 'web' })).to.equal('stn-team-a-rule-web');
  });

  it('hashes names over 63 characters into valid, distinct, stable DNS labels', () => {
    const tenant = 't'.repeat(63);
    const rules = ['a', 'b', 'x'.repeat(63), `${'x'.repeat(62)}y`];
    const names = [
      policyName(tenant, { kind: 'isolation' }),
      ...rules.map((rule) => policyName(tenant, { kind: 'rule', rule })),
    ];
    for (const n of names) {
      expect(n.length).to.be.at.most(63);
      expect(isDnsLabel(n), n).to.equal(true);
    }
    expect(new Set(names).size).to.equal(names.length);
    expect(policyName(tenant, { kind: 'rule', rule: 'a' })).to.equal(names[1]);
  });

  it('keeps a name of exactly 63 characters as it is', () => {
    const rule = 'r'.repeat(63 - 'stn-a-rule-'.length);
    expect(policyName('a', { kind: 'rule', rule })).to.equal(`stn-a-rule-${rule}`);
  });

  it('does not end the truncated part with a dash', () => {
    const tenant = `${'t'.repeat(49)}-x`;
    expect(policyName(tenant, { kind: 'isolation' })).to.match(/^stn-t+-[0-9a-f]{10}$/);
  });

  it('describes the source for the annotation', () => {
    expect(sourceValue({ kind: 'isolation' })).to.equal('isolation');
    expect(sourceValue({ kind: 'rule', rule: 'web' })).to.equal('rule/web');
  });
});
