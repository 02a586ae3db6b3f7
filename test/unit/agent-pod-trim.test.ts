// The agent trims each pod it caches to what the model reads: the render of trimmed pods is the
// render of whole ones, the object stays the same object, and the rest is gone.
import { expect } from 'chai';
import type { Pod } from '../../operator/api/networkpolicy.js';
import { trimPod } from '../../operator/agent/pod-trim.js';
import { renderNode } from '../../operator/dataplane/render-node.js';
import { apiServedPod } from '../support/api-served-pod.js';
import { ns, policy } from './netpol-fixtures.js';

const NODE = 'node-a';

/** An API-served pod with a sidecar (restartable init container) that declares a named port. */
function withSidecar(p: Pod): Pod {
  const copy = JSON.parse(JSON.stringify(p)) as Pod & { spec: { initContainers?: unknown[] } };
  copy.spec.initContainers = [
    {
      name: 'proxy',
      image: 'proxy:1',
      restartPolicy: 'Always',
      ports: [{ name: 'proxy', containerPort: 15001 }],
    },
    { name: 'setup', image: 'setup:1', ports: [{ name: 'proxy', containerPort: 9999 }] },
  ];
  return copy;
}

function cluster(trim: boolean) {
  const pods = [
    withSidecar(apiServedPod(1, 'shop', NODE, '10.1.0.1')),
    apiServedPod(2, 'shop', 'node-b', '10.1.0.2'),
    apiServedPod(3, 'ops', NODE, '10.1.0.3'),
  ].map((p) => (trim ? trimPod(JSON.parse(JSON.stringify(p)) as Pod) : p));
  return {
    namespaces: [ns('shop', { team: 'x' }), ns('ops')],
    pods,
    policies: [
      policy('shop', 'web-in', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'http' }, { port: 'proxy' }] }],
        egress: [{ to: [{ podSelector: { matchLabels: { tier: 'fe' } } }], ports: [{ port: 'metrics' }] }],
      }),
    ],
  };
}

describe('agent: pods trimmed to what the model reads', function () {
  it('renders trimmed pods exactly as whole ones (named ports of containers and sidecars included)', function () {
    const whole = renderNode(cluster(false), NODE);
    const trimmed = renderNode(cluster(true), NODE);
    expect(trimmed).to.deep.equal(whole);
    // The sidecar's named port took part: the ingress rule resolved "proxy" to 15001.
    expect(whole.model.policies[0].ingress[0].named.map((g) => `${g.name}/${g.port}`)).to.include(
      'proxy/15001',
    );
  });

  it('keeps the same object and only the fields the model reads', function () {
    const pod = withSidecar(apiServedPod(7, 'shop', NODE, '10.1.0.7'));
    const before = JSON.stringify(pod).length;
    expect(trimPod(pod)).to.equal(pod);
    expect(pod).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.metadata.name,
        namespace: 'shop',
        uid: pod.metadata.uid,
        resourceVersion: pod.metadata.resourceVersion,
        labels: pod.metadata.labels,
      },
      spec: {
        nodeName: NODE,
        containers: [
          {
            name: 'web',
            ports: [
              { name: 'http', containerPort: 8080, protocol: 'TCP' },
              { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
            ],
          },
        ],
        initContainers: [
          { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'proxy', containerPort: 15001 }] },
          { name: 'setup', ports: [{ name: 'proxy', containerPort: 9999 }] },
        ],
      },
      status: { phase: 'Running', podIP: '10.1.0.7', podIPs: [{ ip: '10.1.0.7' }] },
    });
    expect(JSON.stringify(pod).length).to.be.below(before / 5);
  });

  it('keeps hostNetwork and a deletion in progress, and copes with a pod without status', function () {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'h',
        namespace: 'kube-system',
        deletionTimestamp: '2026-12-01T00:00:00Z',
        annotations: { a: 'b' },
      },
      spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x' }] },
    } as unknown as Pod;
    trimPod(pod);
    expect(pod).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'h', namespace: 'kube-system', deletionTimestamp: '2026-12-01T00:00:00Z' },
      spec: { hostNetwork: true, containers: [{ name: 'c' }] },
    });
  });
});
