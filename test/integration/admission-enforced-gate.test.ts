// The opt-in admission policy of config/admission/readiness-gate on the real API server: a pod
// created in a namespace of a tenant gets the readiness gate tenancy.softtenant.io/enforced
// (added to the gates it already lists), while a host-network pod, a pod of a namespace outside
// every tenant and a pod that already lists the gate are admitted unchanged. The real-node side
// (such a pod becomes Ready only once the agent marks it) is in test/nodes/new-pods.test.ts.
import { expect } from 'chai';
import { join } from 'node:path';
import { ENFORCED_GATE } from '../../operator/agent/readiness-gate.js';
import { kubectl, repoRoot } from '../support/controlplane.js';
import { poll, TENANT_LABEL, tryKubectl } from './install-fixture.js';

const TENANT_NS = 'st-gate-tenant';
const PLAIN_NS = 'st-gate-plain';
const POLICY_DIR = join(repoRoot, 'config/admission/readiness-gate');
const OTHER_GATE = 'example.com/warmed-up';

interface AdmittedPod {
  metadata: { name: string };
  spec: { hostNetwork?: boolean; readinessGates?: { conditionType: string }[] };
}

function pod(ns: string, name: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10.2' }],
      ...spec,
    },
  };
}

/** Creates the pod for real (no kubelet here: it stays Pending) and returns what was stored. */
function create(obj: object): AdmittedPod {
  return JSON.parse(kubectl(['create', '-f', '-', '-o', 'json'], JSON.stringify(obj))) as AdmittedPod;
}

const gates = (p: AdmittedPod): string[] | undefined => p.spec.readinessGates?.map((g) => g.conditionType);

describe('admission: the opt-in readiness gate policy (config/admission/readiness-gate)', function () {
  this.timeout(120_000);

  before(async () => {
    kubectl(['apply', '--server-side', '-k', POLICY_DIR]);
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: TENANT_NS, labels: { [TENANT_LABEL]: 'acme' } },
          },
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PLAIN_NS } },
        ],
      }),
    );
    // A new policy takes effect once the API server has compiled it: a dry run shows when.
    await poll('the enforced-gate policy to mutate pods', 30_000, () => {
      const res = tryKubectl(
        ['create', '--dry-run=server', '-f', '-', '-o', 'json'],
        JSON.stringify(pod(TENANT_NS, 'dry-run')),
      );
      if (res.code !== 0) return undefined; // e.g. the namespace's ServiceAccount not there yet
      return gates(JSON.parse(res.stdout) as AdmittedPod)?.includes(ENFORCED_GATE) ? true : undefined;
    });
  });

  after(() => {
    tryKubectl(['delete', 'namespace', TENANT_NS, PLAIN_NS, '--ignore-not-found', '--wait=false']);
    tryKubectl(['delete', '-k', POLICY_DIR, '--ignore-not-found']);
  });

  it('adds the gate to a pod created in a namespace of a tenant', () => {
    expect(gates(create(pod(TENANT_NS, 'plain')))).to.deep.equal([ENFORCED_GATE]);
  });

  it('appends it to the gates a pod already lists', () => {
    const got = create(pod(TENANT_NS, 'other-gate', { readinessGates: [{ conditionType: OTHER_GATE }] }));
    expect(gates(got)).to.deep.equal([OTHER_GATE, ENFORCED_GATE]);
  });

  it('leaves a pod that already lists the gate unchanged', () => {
    const readinessGates = [{ conditionType: ENFORCED_GATE }, { conditionType: OTHER_GATE }];
    expect(gates(create(pod(TENANT_NS, 'gated', { readinessGates })))).to.deep.equal([
      ENFORCED_GATE,
      OTHER_GATE,
    ]);
  });

  it('leaves a host-network pod of a tenant ungated (the agent does not program it)', () => {
    const got = create(pod(TENANT_NS, 'host', { hostNetwork: true }));
    expect(got.spec.hostNetwork).to.equal(true);
    expect(gates(got)).to.equal(undefined);
  });

  it('leaves a pod of a namespace outside every tenant ungated', () => {
    expect(gates(create(pod(PLAIN_NS, 'plain')))).to.equal(undefined);
  });

  it('gates a pod of a namespace that joins a tenant from then on', async () => {
    kubectl(['label', 'namespace', PLAIN_NS, `${TENANT_LABEL}=acme`]);
    // The policy's namespace selector reads namespaces from the API server's informer.
    const got = await poll('a pod of the relabelled namespace to be gated', 30_000, () => {
      const res = tryKubectl(
        ['create', '--dry-run=server', '-f', '-', '-o', 'json'],
        JSON.stringify(pod(PLAIN_NS, 'joined')),
      );
      const p = res.code === 0 ? (JSON.parse(res.stdout) as AdmittedPod) : undefined;
      return p && gates(p) ? p : undefined;
    });
    expect(gates(got)).to.deep.equal([ENFORCED_GATE]);
  });
});
