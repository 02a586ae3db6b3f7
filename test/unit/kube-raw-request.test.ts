import { expect } from 'chai';
import { dialHost } from '../../operator/kube/raw-request.js';

describe('raw requests: the host dialled', () => {
  it('unbrackets an IPv6 literal (in-cluster config of an IPv6-primary cluster)', () => {
    expect(dialHost(new URL('https://[fd00:10:96::1]:443/api'))).to.equal('fd00:10:96::1');
    expect(dialHost(new URL('https://[::1]:6443/'))).to.equal('::1');
  });

  it('leaves IPv4 literals and names as they are', () => {
    expect(dialHost(new URL('https://10.96.0.1:443/api'))).to.equal('10.96.0.1');
    expect(dialHost(new URL('https://kubernetes.default.svc/'))).to.equal('kubernetes.default.svc');
  });
});
