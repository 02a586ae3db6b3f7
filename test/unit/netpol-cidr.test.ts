// Address parsing the model and render rely on.
import { expect } from 'chai';
import { cidrWithin, parseCidr, parseIPv4 } from '../../operator/netpol/cidr.js';

describe('netpol addresses', () => {
  it('parses dotted-quad IPv4 and nothing else', () => {
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
    ]) {
      expect(parseIPv4(bad), bad).to.equal(undefined);
    }
  });

  it('canonicalises CIDRs (host bits cleared) and rejects bad ones', () => {
    expect(parseCidr('172.17.3.4/16').text).to.equal('172.17.0.0/16');
    expect(parseCidr('0.0.0.0/0').prefix).to.equal(0);
    expect(parseCidr('fd00:0:0::1/64')).to.include({ family: 6, text: 'fd00::/64' });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0/8', 'x/8', 'fd00::/129'])
      expect(() => parseCidr(bad), bad).to.throw();
  });

  it('tells containment', () => {
    expect(cidrWithin(parseCidr('10.1.0.0/16'), parseCidr('10.0.0.0/8'))).to.equal(true);
    expect(cidrWithin(parseCidr('10.0.0.0/8'), parseCidr('10.0.0.0/8'))).to.equal(true);
    expect(cidrWithin(parseCidr('10.0.0.0/8'), parseCidr('10.1.0.0/16'))).to.equal(false);
    expect(cidrWithin(parseCidr('11.0.0.0/16'), parseCidr('10.0.0.0/8'))).to.equal(false);
  });
});
