// The one address module: the strict grammar CEL's isCIDR()/cidr() and the API server use, the
// legacy one stored objects may still carry, canonical text, containment, and the API server's
// ipBlock verdicts. (Replaces the tests of tenant/cidr.ts and netpol/cidr.ts, which it replaced.)
import { expect } from 'chai';
import {
  cidrContains,
  formatIPv4,
  ipFamily,
  isStrictSubset,
  networkPolicyCidrError,
  parseCidr,
  parseIP,
  parseIPv4,
  tryParseCidr,
  type Cidr,
} from '../../operator/net/address.js';

const must = (text: string): Cidr => parseCidr(text);

describe('address module: strict CIDR grammar (CEL isCIDR, Go netip.ParsePrefix)', () => {
  const valid = [
    '10.0.0.0/8',
    '0.0.0.0/0',
    '255.255.255.255/32',
    '::/0',
    'fd00::/8',
    '2001:db8::/32',
    '2001:DB8::/32',
    '2001:0db8::/32',
    '1:2:3:4:5:6:7:8/128',
    '64:ff9b::1.2.3.4/128',
    '::1.2.3.4/128',
    '10.0.0.1/8',
  ];
  const invalid = [
    '10.0.0.0',
    '10.0.0/8',
    '10.1/16',
    '0xa.0.0.0/8',
    '10.0.0.0/33',
    '10.0.0.0/08',
    '010.0.0.0/8',
    '256.0.0.0/8',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/8/8',
    '::ffff:1.2.3.4/128',
    '::ffff:0:0/96',
    'fe80::%eth0/64',
    'fe80::1%eth0/64',
    '1::2::3/64',
    ':::1/128',
    '12345::/16',
    '00001::/16',
    '1:2:3:4:5:6:7::8/128',
    '1:2:3:4:5:6:7:8::/128',
    '1:2:3:4:5:6:7:8:9/128',
    '::1.2.3.04/128',
    '::/129',
    ' 10.0.0.0/8',
    '10.0.0.0/8 ',
    'x/8',
    '',
  ];
  for (const t of valid) it(`accepts ${t}`, () => expect(tryParseCidr(t)).to.not.equal(undefined));
  for (const t of invalid)
    it(`rejects ${JSON.stringify(t)}`, () => expect(tryParseCidr(t)).to.equal(undefined));

  it('says why, quoting the text', () => {
    expect(() => parseCidr('10.0.0.0')).to.throw('"10.0.0.0" is not a CIDR');
    expect(() => parseCidr('010.0.0.0/8')).to.throw('leading zeros');
    expect(() => parseCidr('::ffff:1.2.3.4/128')).to.throw('IPv4-mapped');
    expect(() => parseCidr('10.0.0.0/33')).to.throw('invalid prefix length');
    expect(() => parseCidr('x/8')).to.throw('not a valid IP address range');
  });
});

describe('address module: legacy grammar (what older API servers stored)', () => {
  it('reads leading zeros as decimal, never octal, and accepts IPv4-mapped IPv6', () => {
    expect(parseCidr('010.001.0.0/16', 'legacy').text).to.equal('10.1.0.0/16');
    expect(parseCidr('10.0.0.0/08', 'legacy').prefix).to.equal(8);
    expect(parseCidr('::ffff:1.2.3.4/128', 'legacy').family).to.equal(6);
  });
  it('still refuses what no Kubernetes version accepted', () => {
    for (const bad of ['10.1/16', '0xa.0.0.0/8', 'fe80::1%eth0/64', '256.0.0.0/8', '10.0.0.0/33'])
      expect(tryParseCidr(bad, 'legacy'), bad).to.equal(undefined);
  });
});

describe('address module: canonical text and host bits', () => {
  it('finds host bits', () => {
    expect(must('10.0.0.1/8').hostBits).to.equal(true);
    expect(must('10.0.0.0/8').hostBits).to.equal(false);
    expect(must('10.0.0.128/25').hostBits).to.equal(false);
    expect(must('10.0.0.64/25').hostBits).to.equal(true);
    expect(must('2001:db8::1/64').hostBits).to.equal(true);
    expect(must('0.0.0.0/0').hostBits).to.equal(false);
  });

  it('writes the address as written like CEL string(cidr(x)) (RFC 5952 for IPv6)', () => {
    expect(must('2001:DB8:0:0:0:0:0:0/32').written).to.equal('2001:db8::/32');
    expect(must('2001:db8:0:0:1:0:0:1/128').written).to.equal('2001:db8::1:0:0:1/128');
    expect(must('2001:0:0:1:0:0:0:1/128').written).to.equal('2001:0:0:1::1/128');
    expect(must('2001:db8:0:1:1:1:1:1/128').written).to.equal('2001:db8:0:1:1:1:1:1/128');
    expect(must('::/0').written).to.equal('::/0');
    expect(must('::1.2.3.4/128').written).to.equal('::102:304/128');
    expect(must('172.17.0.0/16').written).to.equal('172.17.0.0/16');
    expect(must('10.0.0.1/8').written).to.equal('10.0.0.1/8');
    expect(must('10.0.0.1/8').address).to.deep.equal({ family: 4, bytes: [10, 0, 0, 1] });
  });

  it('gives the network in text (host bits cleared) and, for IPv4, as a number', () => {
    expect(must('172.17.3.4/16')).to.include({ text: '172.17.0.0/16', family: 4, prefix: 16 });
    expect(must('172.17.3.4/16').network).to.equal(parseIPv4('172.17.0.0'));
    expect(must('fd00:0:0::1/64')).to.include({ family: 6, text: 'fd00::/64' });
    expect(must('0.0.0.0/0').prefix).to.equal(0);
  });
});

describe('address module: containment', () => {
  it('between CIDRs, within one family', () => {
    expect(cidrContains(must('172.17.0.0/16'), must('172.17.1.0/24'))).to.equal(true);
    expect(cidrContains(must('172.17.0.0/16'), must('172.18.1.0/24'))).to.equal(false);
    expect(cidrContains(must('172.17.0.0/16'), must('172.0.0.0/8'))).to.equal(false);
    expect(cidrContains(must('10.0.0.0/8'), must('10.0.0.0/8'))).to.equal(true);
    expect(cidrContains(must('0.0.0.0/0'), must('10.0.0.0/8'))).to.equal(true);
    expect(cidrContains(must('::/0'), must('10.0.0.0/8'))).to.equal(false);
    expect(cidrContains(must('0.0.0.0/0'), must('fd00::/8'))).to.equal(false);
    expect(cidrContains(must('fd00::/8'), must('fd12:3456::/32'))).to.equal(true);
    expect(cidrContains(must('fd00::/16'), must('fd01::/32'))).to.equal(false);
  });
  it('of an IPv4 address given as a number', () => {
    expect(cidrContains(must('10.0.0.0/8'), parseIPv4('10.200.1.1') as number)).to.equal(true);
    expect(cidrContains(must('10.0.0.0/8'), parseIPv4('11.0.0.1') as number)).to.equal(false);
    expect(cidrContains(must('0.0.0.0/0'), 0xffffffff)).to.equal(true);
    expect(cidrContains(must('::/0'), 0)).to.equal(false);
  });
  it('strict subsets (ipBlock except)', () => {
    expect(isStrictSubset(must('10.1.0.0/16'), must('10.0.0.0/8'))).to.equal(true);
    expect(isStrictSubset(must('10.0.0.0/8'), must('10.0.0.0/8'))).to.equal(false);
    expect(isStrictSubset(must('11.0.0.0/16'), must('10.0.0.0/8'))).to.equal(false);
  });
});

describe('address module: IP literals', () => {
  it('parses dotted-quad IPv4 to a number (the pod fast path) and nothing else', () => {
    expect(parseIPv4('10.244.1.10')).to.equal(((10 * 256 + 244) * 256 + 1) * 256 + 10);
    expect(parseIPv4('255.255.255.255')).to.equal(0xffffffff);
    expect(parseIPv4('0.0.0.0')).to.equal(0);
    for (const bad of [
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
      ' 1.2.3.4',
      'a.b.c.d',
      '1234.1.1.1',
      'fd00::1',
      '',
    ])
      expect(parseIPv4(bad), bad).to.equal(undefined);
  });
  it('the fast path and the general parser agree on canonical IPv4', () => {
    for (const n of [0, 1, 255, 256, 0x0a000001, 0x7fffffff, 0x80000000, 0xc0a80101, 0xffffffff]) {
      const text = formatIPv4(n);
      expect(parseIPv4(text), text).to.equal(n);
      expect(
        parseIP(text)?.bytes.reduce((a, b) => a * 256 + b, 0),
        text,
      ).to.equal(n);
    }
  });
  it('tells the family of a pod IP', () => {
    expect(ipFamily('10.0.0.1')).to.equal(4);
    expect(ipFamily('fd00::1')).to.equal(6);
    expect(ipFamily('fe80::1%eth0')).to.equal(undefined);
    expect(ipFamily('pod')).to.equal(undefined);
  });
});

// The verdicts of ValidateIPBlock (networking/validation) with StrictIPCIDRValidation, which
// Kubernetes 1.36 enables by default, in the order the API server checks.
describe('address module: the API server on NetworkPolicy ipBlock CIDRs', () => {
  const cases: [string, string | undefined][] = [
    ['10.0.0.0/8', undefined],
    ['2001:DB8::/32', undefined],
    ['2001:0db8::/32', undefined],
    ['::1.2.3.4/128', undefined],
    ['10.0.0.1/8', 'must not have bits set beyond the prefix length'],
    ['2001:db8::1/32', 'must not have bits set beyond the prefix length'],
    ['010.0.0.0/8', 'must not have leading 0s in IP or prefix length'],
    ['10.0.0.0/08', 'must not have leading 0s in IP or prefix length'],
    ['::ffff:1.2.3.4/128', 'must not have an IPv4-mapped IPv6 address'],
    ['10.0.0.0', 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
    ['10.0.0.0/33', 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
    ['fe80::/10%eth0', 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
  ];
  for (const [text, want] of cases) {
    it(`${text}: ${want ?? 'accepted'}`, () => expect(networkPolicyCidrError(text)).to.equal(want));
  }
});
