// The strict CIDR parser that mirrors the API server's CEL isCIDR()/cidr() library.
import { expect } from 'chai';
import { containsCidr, formatCidr, hasHostBits, parseCidr, type Cidr } from '../../operator/tenant/cidr.js';

function must(text: string): Cidr {
  const c = parseCidr(text);
  if (!c) throw new Error(`${text} did not parse`);
  return c;
}

describe('parseCidr', () => {
  const valid = [
    '10.0.0.0/8',
    '0.0.0.0/0',
    '255.255.255.255/32',
    '::/0',
    'fd00::/8',
    '2001:db8::/32',
    '2001:DB8::/32',
    '1:2:3:4:5:6:7:8/128',
    '64:ff9b::1.2.3.4/128',
    '::1.2.3.4/128',
    '10.0.0.1/8',
  ];
  const invalid = [
    '10.0.0.0',
    '10.0.0/8',
    '10.0.0.0/33',
    '10.0.0.0/08',
    '010.0.0.0/8',
    '256.0.0.0/8',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '::ffff:1.2.3.4/128',
    '::ffff:0:0/96',
    'fe80::%eth0/64',
    '1::2::3/64',
    '12345::/16',
    '1:2:3:4:5:6:7:8:9/128',
    '::/129',
    ' 10.0.0.0/8',
    '',
  ];
  for (const t of valid) it(`accepts ${t}`, () => expect(parseCidr(t)).to.not.equal(undefined));
  for (const t of invalid) it(`rejects ${JSON.stringify(t)}`, () => expect(parseCidr(t)).to.equal(undefined));
});

describe('CIDR helpers', () => {
  it('finds host bits', () => {
    expect(hasHostBits(must('10.0.0.1/8'))).to.equal(true);
    expect(hasHostBits(must('10.0.0.0/8'))).to.equal(false);
    expect(hasHostBits(must('10.0.0.128/25'))).to.equal(false);
    expect(hasHostBits(must('10.0.0.64/25'))).to.equal(true);
    expect(hasHostBits(must('2001:db8::1/64'))).to.equal(true);
    expect(hasHostBits(must('0.0.0.0/0'))).to.equal(false);
  });

  it('formats canonically (RFC 5952 for IPv6)', () => {
    expect(formatCidr(must('2001:DB8:0:0:0:0:0:0/32'))).to.equal('2001:db8::/32');
    expect(formatCidr(must('2001:db8:0:0:1:0:0:1/128'))).to.equal('2001:db8::1:0:0:1/128');
    expect(formatCidr(must('2001:0:0:1:0:0:0:1/128'))).to.equal('2001:0:0:1::1/128');
    expect(formatCidr(must('2001:db8:0:1:1:1:1:1/128'))).to.equal('2001:db8:0:1:1:1:1:1/128');
    expect(formatCidr(must('::/0'))).to.equal('::/0');
    expect(formatCidr(must('::1.2.3.4/128'))).to.equal('::102:304/128');
    expect(formatCidr(must('172.17.0.0/16'))).to.equal('172.17.0.0/16');
  });

  it('tests containment within one family', () => {
    expect(containsCidr(must('172.17.0.0/16'), must('172.17.1.0/24'))).to.equal(true);
    expect(containsCidr(must('172.17.0.0/16'), must('172.18.1.0/24'))).to.equal(false);
    expect(containsCidr(must('172.17.0.0/16'), must('172.0.0.0/8'))).to.equal(false);
    expect(containsCidr(must('0.0.0.0/0'), must('10.0.0.0/8'))).to.equal(true);
    expect(containsCidr(must('::/0'), must('10.0.0.0/8'))).to.equal(false);
    expect(containsCidr(must('fd00::/8'), must('fd12:3456::/32'))).to.equal(true);
  });
});
