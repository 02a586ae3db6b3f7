// The agent's ClusterNetworkPolicy watch (operator/agent/cnp-watch.ts) against the real API
// server: without the CRD it counts as listed and holds nothing (the agent must not wait for a
// resource that does not exist); once the CRD is installed it starts watching by itself, and the
// policies, their changes (generation) and deletions reach the agent's snapshot.
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { ClusterNetworkPolicyWatch } from '../../operator/agent/cnp-watch.js';
import { logger } from '../../operator/util/logger.js';
import { kubectl } from '../support/controlplane.js';
import {
  CLUSTER_NETWORK_POLICY_CRD,
  installClusterNetworkPolicyCrd,
  removeCrds,
  waitForWatch,
} from '../support/crds.js';
import { eventually } from '../support/eventually.js';

const NAME = 'cnp-watch-deny-b';

function policy(priority: number): string {
  return JSON.stringify({
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: NAME },
    spec: {
      tier: 'Admin',
      priority,
      subject: { namespaces: { matchLabels: { tenant: 'a' } } },
      ingress: [{ action: 'Deny', from: [{ namespaces: { matchLabels: { tenant: 'b' } } }] }],
    },
  });
}

describe('agent: ClusterNetworkPolicy watch on the real API server', function () {
  this.timeout(120_000);
  const kc = new KubeConfig();
  let watch: ClusterNetworkPolicyWatch | undefined;
  let wasInstalled = false;

  before(() => {
    kc.loadFromDefault();
    wasInstalled = kubectl(['get', 'crd', '-o', 'name']).includes(CLUSTER_NETWORK_POLICY_CRD);
    if (wasInstalled) removeCrds([CLUSTER_NETWORK_POLICY_CRD]);
  });

  after(async () => {
    await watch?.stop();
    kubectl(['delete', 'clusternetworkpolicy', NAME, '--ignore-not-found']);
    // Leave the cluster as this file found it.
    if (!wasInstalled) removeCrds([CLUSTER_NETWORK_POLICY_CRD]);
  });

  it('is listed at once without the CRD, then picks the CRD and its policies up', async () => {
    let changes = 0;
    watch = new ClusterNetworkPolicyWatch(kc, logger('cnp-watch-test'), 500);
    watch.start(() => changes++);
    await watch.synced;
    expect(watch.list()).to.deep.equal([]);

    installClusterNetworkPolicyCrd();
    await waitForWatch('/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies');
    kubectl(['apply', '-f', '-'], policy(10));
    const w = watch;
    const first = await eventually(() => {
      const found = w.list().find((p) => p.metadata.name === NAME);
      expect(found, 'the policy in the watch').to.not.equal(undefined);
      return found!;
    });
    expect(changes, 'changes told to the agent').to.be.greaterThan(0);
    expect(first.spec.priority).to.equal(10);

    kubectl(['apply', '-f', '-'], policy(20));
    await eventually(() => {
      const found = w.list().find((p) => p.metadata.name === NAME);
      expect(found?.spec.priority).to.equal(20);
      expect(found?.metadata.generation).to.be.greaterThan(first.metadata.generation ?? 0);
    });

    kubectl(['delete', 'clusternetworkpolicy', NAME]);
    await eventually(() => expect(w.list().map((p) => p.metadata.name)).to.not.include(NAME));
  });
});
