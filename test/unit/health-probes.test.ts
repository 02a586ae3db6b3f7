import { expect } from 'chai';
import { probeResponse, Probes } from '../../operator/health/probes.js';
import { formatAddress, parseBindAddress } from '../../operator/util/bind-address.js';

describe('health probes', () => {
  it('answers 200 "ok" when every check passes', () => {
    const probes = new Probes().add('readyz', 'watches', () => undefined);
    expect(probeResponse('readyz', probes.evaluate('readyz'), false)).to.include({
      status: 200,
      body: 'ok\n',
    });
  });

  it('answers 500 naming the failed check and why', () => {
    let started = false;
    const probes = new Probes().add('readyz', 'watches', () =>
      started ? undefined : 'starting the watches',
    );
    const res = probeResponse('readyz', probes.evaluate('readyz'), false);
    expect(res.status).to.equal(500);
    expect(res.body).to.equal('[-]watches failed: starting the watches\nreadyz check failed\n');
    started = true;
    expect(probeResponse('readyz', probes.evaluate('readyz'), false).status).to.equal(200);
  });

  it('lists every check with ?verbose', () => {
    const probes = new Probes().add('healthz', 'leader-election', () => undefined);
    expect(probeResponse('healthz', probes.evaluate('healthz'), true).body).to.equal(
      '[+]ping ok\n[+]leader-election ok\nhealthz check passed\n',
    );
  });

  it('keeps liveness and readiness apart, and a throwing check fails instead of crashing', () => {
    const probes = new Probes().add('readyz', 'broken', () => {
      throw new Error('boom');
    });
    expect(probes.evaluate('healthz')).to.deep.equal([{ name: 'ping' }]);
    expect(probes.evaluate('readyz')).to.deep.equal([{ name: 'ping' }, { name: 'broken', problem: 'boom' }]);
  });
});

describe('bind addresses', () => {
  const ok: [string, unknown][] = [
    [':8080', { port: 8080 }],
    ['127.0.0.1:8081', { host: '127.0.0.1', port: 8081 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:9481', { host: '::1', port: 9481 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    ['0', 'disabled'],
  ];
  for (const [text, want] of ok) {
    it(`parses ${text}`, () => expect(parseBindAddress(text)).to.deep.equal(want));
  }
  for (const bad of ['8080', '', ':', ':http', '127.0.0.1:70000', '::1:80', 'host:-1']) {
    it(`refuses '${bad}'`, () => expect(() => parseBindAddress(bad)).to.throw(/bind address/));
  }
  it('formats IPv6 hosts in brackets', () => {
    expect(formatAddress('::1', 80)).to.equal('[::1]:80');
    expect(formatAddress('127.0.0.1', 80)).to.equal('127.0.0.1:80');
  });
});
