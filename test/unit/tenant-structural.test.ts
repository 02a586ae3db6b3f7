// The offline stand-in for the API server's handling of a custom resource: the CEL environment
// (every rule of the CRD compiles in it; Kubernetes' IP/CIDR functions behave as documented) and
// the structural-schema interpreter (order of checks, wording, paths, blocking errors).
import { expect } from 'chai';
import { compileRule } from '../../operator/tenant/cel.js';
import { softTenantSchema } from '../../operator/tenant/crd.js';
import type { Schema } from '../../operator/tenant/crd-schema.js';
import { RULES_NOT_CHECKED, validateAgainstSchema } from '../../operator/tenant/structural.js';

function rulesOf(schema: Schema): string[] {
  const out: string[] = [];
  const visit = (s: Schema): void => {
    for (const v of s['x-kubernetes-validations'] ?? []) {
      out.push(v.rule);
      if (v.messageExpression) out.push(v.messageExpression);
    }
    for (const child of Object.values(s.properties ?? {})) visit(child);
    if (s.items) visit(s.items);
    if (s.additionalProperties) visit(s.additionalProperties);
  };
  visit(schema);
  return out;
}

const cel = (expression: string, self: unknown): unknown => compileRule(expression)({ self });

describe('CEL environment of the offline validator', () => {
  it('compiles and type-checks every rule and message expression of the CRD', () => {
    const rules = rulesOf(softTenantSchema());
    expect(rules.length).to.be.greaterThan(40);
    const failures = rules
      .map((r) => ({ r, check: compileRule(r).check() }))
      .filter((x) => !x.check.valid)
      .map((x) => `${x.r}: ${x.check.error?.message ?? ''}`);
    expect(failures).to.deep.equal([]);
  });

  it('rejects a function the API server has but this environment lacks, so a new rule cannot slip by', () => {
    expect(compileRule('quantity(self).isInteger()').check().valid).to.equal(false);
  });

  it("implements Kubernetes' CIDR library: isCIDR, cidr().ip(), masked(), prefixLength(), containsCIDR, string()", () => {
    expect(cel('isCIDR(self)', '10.0.0.0/8')).to.equal(true);
    expect(cel('isCIDR(self)', '10.0.0.0')).to.equal(false);
    expect(cel('isCIDR(self)', '::ffff:1.2.3.4/128'), 'IPv4-mapped').to.equal(false);
    expect(cel('isCIDR(self)', 'fe80::%eth0/64'), 'zone').to.equal(false);
    expect(cel('string(cidr(self).ip())', '10.1.2.3/8')).to.equal('10.1.2.3');
    expect(cel('string(cidr(self).masked())', '10.1.2.3/8')).to.equal('10.0.0.0/8');
    expect(cel('cidr(self).ip() == cidr(self).masked().ip()', '10.1.2.3/8')).to.equal(false);
    expect(cel('cidr(self).ip() == cidr(self).masked().ip()', '10.0.0.0/8')).to.equal(true);
    expect(cel('cidr(self).prefixLength()', 'fd00::/8')).to.equal(8n);
    expect(cel('string(cidr(self))', '2001:DB8:0:0::/32')).to.equal('2001:db8::/32');
    expect(cel("cidr(self).containsCIDR('10.1.0.0/16')", '10.0.0.0/8')).to.equal(true);
    expect(cel("cidr(self).containsCIDR(cidr('10.0.0.0/7'))", '10.0.0.0/8')).to.equal(false);
    expect(cel("cidr(self).containsCIDR('fd00::/16')", '0.0.0.0/0'), 'other family').to.equal(false);
    expect(cel("cidr(self).containsIP('10.255.0.1')", '10.0.0.0/8')).to.equal(true);
    expect(cel("cidr(self).containsIP(ip('11.0.0.1'))", '10.0.0.0/8')).to.equal(false);
    expect(cel('isIP(self) && ip(self).family() == 6', '::1')).to.equal(true);
    expect(cel('isIP(self)', '10.0.0.1/32')).to.equal(false);
    expect(() => cel('cidr(self)', 'nonsense')).to.throw(/parse error/);
  });

  it('sees integers as CEL ints, so type(self) == int holds for a numeric int-or-string', () => {
    const schema: Schema = {
      type: 'object',
      properties: {
        port: {
          'x-kubernetes-int-or-string': true,
          'x-kubernetes-validations': [{ rule: 'type(self) == int', message: 'not an int' }],
        },
      },
    };
    expect(validateAgainstSchema(schema, { port: 80 })).to.deep.equal([]);
    expect(validateAgainstSchema(schema, { port: 'http' })).to.deep.equal([
      { field: 'port', message: 'not an int' },
    ]);
  });
});

describe('validateAgainstSchema', () => {
  const schema: Schema = {
    type: 'object',
    properties: {
      names: {
        type: 'array',
        maxItems: 2,
        minItems: 1,
        items: { type: 'string' },
        'x-kubernetes-list-type': 'set',
      },
      rules: {
        type: 'array',
        items: { type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' } } },
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
      mode: { type: 'string', enum: ['A', 'B'], default: 'A' },
      size: { type: 'integer', minimum: 1, maximum: 9 },
    },
    'x-kubernetes-validations': [
      {
        rule: "self.mode == 'A' || !has(self.names)",
        message: 'names need mode A',
        messageExpression: "'names need mode A, not ' + self.mode",
        fieldPath: '.names',
      },
    ],
  };

  it('accepts a valid value, with the defaults applied before the rules run', () => {
    expect(validateAgainstSchema(schema, { names: ['a'], size: 9 })).to.deep.equal([]);
  });

  it('reports rule errors at fieldPath with the message expression', () => {
    expect(validateAgainstSchema(schema, { names: ['a'], mode: 'B' })).to.deep.equal([
      { field: 'names', message: 'names need mode A, not B' },
    ]);
  });

  it('words schema errors as the API server does, and non-blocking ones let the rules run', () => {
    expect(
      validateAgainstSchema(schema, {
        names: ['a', 'a'],
        rules: [{ name: 'x' }, { name: 'x', n: 1 }],
        size: 0,
        mode: 'B',
      }),
    ).to.deep.equal([
      { field: 'names[1]', message: 'Duplicate value: "a"' },
      { field: 'rules[1]', message: 'Duplicate value: {"name":"x"}' },
      { field: 'size', message: 'should be greater than or equal to 1' },
      { field: 'names', message: 'names need mode A, not B' },
    ]);
    expect(validateAgainstSchema(schema, { names: [] })).to.deep.equal([
      { field: 'names', message: 'should have at least 1 items' },
    ]);
  });

  it('stops before the rules after a blocking error (type, enum, too many, required, too long)', () => {
    expect(validateAgainstSchema(schema, { names: ['a', 'b', 'c'], mode: 'B' })).to.deep.equal([
      { field: 'names', message: 'Too many: 3: must have at most 2 items' },
      { field: '', message: RULES_NOT_CHECKED },
    ]);
    expect(validateAgainstSchema(schema, { mode: 'C', size: 1.5 })).to.deep.equal([
      { field: 'mode', message: 'Unsupported value: "C": supported values: "A", "B"' },
      { field: 'size', message: 'must be of type integer' },
      { field: '', message: RULES_NOT_CHECKED },
    ]);
  });

  it('does not change its input', () => {
    const value = { names: ['a'] };
    validateAgainstSchema(schema, value);
    expect(value).to.deep.equal({ names: ['a'] });
  });
});
