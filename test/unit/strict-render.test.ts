// A strict tenant's ClusterNetworkPolicies reach the node render through a snapshot: what
// `softtenant expand` prints, plus the cluster's pods, read by the snapshot parser that
// `softtenant render` uses, gives a render whose ClusterNetworkPolicy model holds both policies,
// programmable, selecting the tenant's pods on that node.
import { expect } from 'chai';
import { TENANT_LABEL } from '../../operator/api/softtenant.js';
import { renderNode } from '../../operator/dataplane/render-node.js';
import { snapshotFromObjects, SnapshotError } from '../../operator/netpol/snapshot.js';
import { expandTenants } from '../../operator/tenant/expand.js';
import { expansionDocuments } from '../../operator/tenant/output.js';
import type { KubeObject } from '../../operator/util/manifests.js';
import { pod } from './netpol-fixtures.js';
import { ns, tenant } from './tenant-fixtures.js';

describe('strict tenants: ClusterNetworkPolicies from a snapshot to the render', () => {
  const t = tenant('team-a', { namespaces: { names: ['a'] }, isolation: { egress: 'Tenant', strict: true } });
  const docs = expansionDocuments(expandTenants({ tenants: [t], namespaces: [ns('a'), ns('b')] }));
  const objects: KubeObject[] = [
    ...docs.map((d) => d.object),
    ns('b') as unknown as KubeObject,
    pod('a', 'a1', { ip: '10.1.0.1', node: 'n1' }) as unknown as KubeObject,
    pod('b', 'b1', { ip: '10.2.0.1', node: 'n1' }) as unknown as KubeObject,
  ];

  it('the snapshot carries them and the render models them on the node', () => {
    const snapshot = snapshotFromObjects(objects);
    expect(snapshot.clusterNetworkPolicies.map((p) => p.metadata.name)).to.deep.equal([
      'softtenant-team-a-allow',
      'softtenant-team-a-deny',
    ]);
    expect(
      snapshot.namespaces.find((n) => n.metadata.name === 'a')?.metadata.labels?.[TENANT_LABEL],
    ).to.equal('team-a');
    const render = renderNode(snapshot, 'n1');
    expect(render.cnp?.problems).to.deep.equal([]);
    expect(render.cnp?.policies.map((p) => [p.name, p.programmable, p.localPods])).to.deep.equal([
      ['softtenant-team-a-allow', true, ['a/a1']],
      ['softtenant-team-a-deny', true, ['a/a1']],
    ]);
  });

  it('refuses a ClusterNetworkPolicy of an unknown version or without a subject, naming it', () => {
    const cnp = structuredClone(docs.at(-1)?.object) as KubeObject;
    expect(() => snapshotFromObjects([{ ...cnp, apiVersion: 'policy.networking.k8s.io/v1' }])).to.throw(
      SnapshotError,
      /softtenant-team-a-deny.*apiVersion/,
    );
    expect(() => snapshotFromObjects([{ ...cnp, spec: { tier: 'Admin' } }])).to.throw(
      SnapshotError,
      /spec.subject/,
    );
    expect(() => snapshotFromObjects([cnp, cnp])).to.throw(SnapshotError, /twice/);
  });
});
