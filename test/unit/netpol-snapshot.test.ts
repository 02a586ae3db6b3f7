// Reading a snapshot: kinds sorted out, other kinds ignored, structure errors name the object.
import { expect } from 'chai';
import { SnapshotError, snapshotFromObjects } from '../../operator/netpol/snapshot.js';
import { parseManifests } from '../../operator/util/manifests.js';

const read = (yaml: string): ReturnType<typeof snapshotFromObjects> =>
  snapshotFromObjects(parseManifests(yaml, 'test'));

describe('netpol snapshot', () => {
  it('sorts a kind: List into namespaces, pods and policies and lists what it ignores', () => {
    const s = read(`
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: a}}
- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, spec: {containers: []}}
- {apiVersion: v1, kind: Service, metadata: {name: s, namespace: a}}
- {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: n, namespace: a}, spec: {podSelector: {}}}
`);
    expect([s.namespaces.length, s.pods.length, s.policies.length]).to.deep.equal([1, 1, 1]);
    expect(s.ignored).to.deep.equal(['Service a/s']);
  });

  it('refuses duplicates (a missing namespace counts as default)', () => {
    expect(() =>
      read(`kind: Pod
metadata: {name: p}
spec: {containers: []}
---
kind: Pod
metadata: {name: p, namespace: default}
spec: {containers: []}
`),
    ).to.throw(SnapshotError, 'Pod default/p: appears twice');
  });

  it('names the object and field of a structural error', () => {
    const cases: [string, string][] = [
      ['kind: Namespace\nmetadata: {labels: {a: b}}\n', 'Namespace <unnamed>: metadata.name is missing'],
      [
        'kind: Namespace\nmetadata: {name: x, labels: {a: 1}}\n',
        'Namespace x: metadata.labels must be a map of strings',
      ],
      ['kind: Pod\nmetadata: {name: p, namespace: a}\n', 'Pod a/p: spec is missing'],
      [
        'kind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: []}\nstatus: {podIPs: [1]}\n',
        'Pod a/p: status.podIPs[0].ip must be a string',
      ],
      [
        'kind: NetworkPolicy\nmetadata: {name: n, namespace: a}\nspec: {podSelector: {}, ingress: {from: []}}\n',
        'NetworkPolicy a/n: spec.ingress must be a list',
      ],
      [
        'kind: NetworkPolicy\napiVersion: extensions/v1beta1\nmetadata: {name: n, namespace: a}\nspec: {podSelector: {}}\n',
        'is not networking.k8s.io/v1',
      ],
    ];
    for (const [yaml, message] of cases) expect(() => read(yaml), message).to.throw(SnapshotError, message);
  });
});
