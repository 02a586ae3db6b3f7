import { expect } from 'chai';
import { dialHost, sameTlsMaterial } from '../../operator/kube/raw-request.js';

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

describe('raw requests: when the shared connections must be replaced', () => {
  // Credentials are read again for every request (a rotated certificate takes effect); the
  // connections are kept while what they were opened with is the same.
  const material = (cert: string, ca: (string | Buffer)[] = [Buffer.from('ca')]): unknown[] => [
    ca,
    Buffer.from(cert),
    Buffer.from('key'),
    undefined,
    undefined,
    'api.example',
    '6443',
  ];

  it('keeps them when the files read again hold the same bytes', () => {
    expect(sameTlsMaterial(material('cert'), material('cert'))).to.equal(true);
  });

  it('replaces them when a certificate, a CA or the server changes', () => {
    expect(sameTlsMaterial(material('cert'), material('rotated'))).to.equal(false);
    expect(sameTlsMaterial(material('cert'), material('cert', [Buffer.from('other ca')]))).to.equal(false);
    expect(sameTlsMaterial(material('cert'), material('cert', [Buffer.from('ca'), 'second']))).to.equal(
      false,
    );
    const moved = material('cert');
    moved[6] = '443';
    expect(sameTlsMaterial(material('cert'), moved)).to.equal(false);
  });
});
