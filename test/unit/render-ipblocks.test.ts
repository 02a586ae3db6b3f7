// ipBlocks -> hash:net set entries: excepts as nomatch, /0 as two /1 halves, and blocks that
// would hide each other's addresses kept in separate sets.
import { expect } from 'chai';
import { blockSetEntries } from '../../operator/dataplane/ip-block-sets.js';
import { parseIPBlock } from '../../operator/netpol/ip-blocks.js';

const sets = (...blocks: { cidr: string; except?: string[] }[]): string[][] =>
  blockSetEntries(blocks.map(parseIPBlock));

describe('render: ipBlock sets', () => {
  it('writes excepts as nomatch entries after their network', () => {
    expect(sets({ cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] })).to.deep.equal([
      ['172.17.0.0/16', '172.17.1.0/24 nomatch'],
    ]);
  });
  it('stores /0 as two /1 halves; a smaller except stays a nomatch entry', () => {
    expect(sets({ cidr: '0.0.0.0/0' })).to.deep.equal([['0.0.0.0/1', '128.0.0.0/1']]);
    expect(sets({ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] })).to.deep.equal([
      ['0.0.0.0/1', '10.0.0.0/8 nomatch', '128.0.0.0/1'],
    ]);
  });
  it('an except equal to a half removes that half instead of adding a duplicate element', () => {
    expect(sets({ cidr: '0.0.0.0/0', except: ['128.0.0.0/1', '10.0.0.0/8'] })).to.deep.equal([
      ['0.0.0.0/1', '10.0.0.0/8 nomatch'],
    ]);
  });
  it('blocks that do not interfere share one set', () => {
    expect(sets({ cidr: '10.1.0.0/16', except: ['10.1.2.0/24'] }, { cidr: '192.0.2.0/24' })).to.deep.equal([
      ['10.1.0.0/16', '10.1.2.0/24 nomatch', '192.0.2.0/24'],
    ]);
  });
  it('a block containing another block’s except gets its own set (peers are ORed)', () => {
    // 10.0.1.5 is excepted by the first block but allowed by the second; in one set the
    // nomatch /24 would beat the /1 halves and refuse it.
    expect(sets({ cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] }, { cidr: '0.0.0.0/0' })).to.deep.equal([
      ['10.0.0.0/16', '10.0.1.0/24 nomatch'],
      ['0.0.0.0/1', '128.0.0.0/1'],
    ]);
    expect(sets({ cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] }, { cidr: '10.0.1.0/24' })).to.have.length(2);
  });
  it('drops duplicate blocks, writes /32 as a bare address, ignores IPv6', () => {
    expect(sets({ cidr: '192.0.2.1/32' }, { cidr: '192.0.2.1/32' }, { cidr: 'fd00::/64' })).to.deep.equal([
      ['192.0.2.1'],
    ]);
  });
});
