// The raw request path keeps its connections to the API server: many requests, sequential and
// concurrent, go over a few kept-alive TLS connections instead of one handshake each (which is
// what client-node's per-request agent would cost; see raw-request.ts).
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { openedConnections, requestJson } from '../../operator/kube/raw-request.js';

describe('raw requests reuse their connections to the real API server', function () {
  const kc = new KubeConfig();
  before(() => kc.loadFromDefault());

  it('opens a handful of connections for a hundred requests', async function () {
    const before = openedConnections();
    for (let i = 0; i < 40; i++) await requestJson(kc, 'GET', '/api/v1/namespaces/default');
    expect(openedConnections() - before, 'sequential requests share one connection').to.be.at.most(1);
    await Promise.all(Array.from({ length: 60 }, () => requestJson(kc, 'GET', '/api/v1/namespaces?limit=1')));
    // Concurrent requests open at most the agent's bound.
    expect(openedConnections() - before)
      .to.be.at.least(1)
      .and.at.most(32);
  });
});
