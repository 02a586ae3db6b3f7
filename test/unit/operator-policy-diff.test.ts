import { expect } from 'chai';
import type { NetworkPolicy } from '../../operator/api/networkpolicy.js';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import { isGeneratedFor, withOwnership } from '../../operator/controller/ownership.js';
import { specWithDefaults } from '../../operator/api/networkpolicy-defaults.js';
import { policyDifferences, specsEqual } from '../../operator/controller/policy-diff.js';

const tenant: SoftTenant = {
  apiVersion: 'tenancy.softtenant.io/v1alpha1',
  kind: 'SoftTenant',
  metadata: { name: 't', uid: 'uid-t', labels: { 'argocd.argoproj.io/instance': 'app' } },
  spec: {},
};

function policy(spec: NetworkPolicy['spec'], extra: Partial<NetworkPolicy['metadata']> = {}): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p', namespace: 'ns', ...extra },
    spec,
  };
}

/** What the API server stores for `p`: defaults filled, empty lists and maps dropped. */
function asStored(p: NetworkPolicy, metadata: Partial<NetworkPolicy['metadata']> = {}): NetworkPolicy {
  return {
    ...p,
    metadata: { ...p.metadata, uid: 'x', resourceVersion: '7', ...metadata },
    spec: specWithDefaults(p.spec),
  };
}

describe('generated policy ownership and comparison', () => {
  it('stamps managed-by, tenant label and one controller reference, never the tenant\u2019s own labels', () => {
    const out = withOwnership(
      policy({ podSelector: {} }, { labels: { extra: 'kept' }, annotations: { a: 'b' } }),
      tenant,
    );
    expect(out.metadata.labels).to.deep.equal({
      extra: 'kept',
      'app.kubernetes.io/managed-by': 'softtenant',
      'tenancy.softtenant.io/tenant': 't',
    });
    expect(out.metadata.annotations).to.deep.equal({ a: 'b' });
    expect(out.metadata.ownerReferences).to.deep.equal([
      {
        apiVersion: 'tenancy.softtenant.io/v1alpha1',
        kind: 'SoftTenant',
        name: 't',
        uid: 'uid-t',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(isGeneratedFor(out, 't', 'uid-t')).to.equal(true);
    expect(isGeneratedFor(out, 't', 'other-uid'), 'another incarnation of the name').to.equal(false);
    expect(isGeneratedFor(out, 'u', 'uid-t')).to.equal(false);
  });

  it('sees no difference between the desired policy and what the API server stores for it', () => {
    const desired = withOwnership(
      policy({
        podSelector: { matchLabels: {} },
        ingress: [{ from: [], ports: [{ port: 80 }] }, {}],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: [] } }] }],
      }),
      tenant,
    );
    const stored = asStored(desired);
    // The server keeps `{}` rules but drops empty lists and maps, and defaults protocol and policyTypes.
    stored.spec = {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }, {}],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
    };
    expect(policyDifferences(desired, stored)).to.deep.equal([]);
  });

  it('ignores labels and annotations that others add, but not changes to its own', () => {
    const desired = withOwnership(policy({ podSelector: {} }), tenant);
    const withExtra = asStored(desired, {
      labels: { ...desired.metadata.labels, team: 'x' },
      annotations: { note: 'y' },
    });
    expect(policyDifferences(desired, withExtra)).to.deep.equal([]);
    const stripped = asStored(desired, { labels: { 'app.kubernetes.io/managed-by': 'softtenant' } });
    expect(policyDifferences(desired, stripped)).to.deep.equal(['labels']);
  });

  it('reports spec edits, a lost ownerReference and absence', () => {
    const desired = withOwnership(
      policy({ podSelector: { matchLabels: { app: 'db' } }, ingress: [{}] }),
      tenant,
    );
    expect(policyDifferences(desired, undefined)).to.deep.equal(['missing']);
    const edited = asStored(desired);
    edited.spec = { ...edited.spec, podSelector: { matchLabels: { app: 'web' } } };
    expect(policyDifferences(desired, edited)).to.deep.equal(['spec']);
    expect(policyDifferences(desired, asStored(desired, { ownerReferences: [] }))).to.deep.equal([
      'ownerReferences',
    ]);
  });

  it('treats policyTypes and protocol defaults as equal to their explicit form, and distinguishes real ones', () => {
    expect(
      specsEqual(
        { podSelector: {}, egress: [{}] },
        { podSelector: {}, policyTypes: ['Ingress', 'Egress'], egress: [{}] },
      ),
    ).to.equal(true);
    expect(specsEqual({ podSelector: {} }, { podSelector: {}, policyTypes: ['Egress'] })).to.equal(false);
    expect(
      specsEqual(
        { podSelector: {}, ingress: [{ ports: [{ port: 53 }] }] },
        { podSelector: {}, ingress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] },
      ),
    ).to.equal(false);
  });
});
