// Mocha root hooks of the nodes suite: one real cluster with softtenant installed for the run,
// brought up before the first test and torn down after the last, also when tests fail.
// SOFTTENANT_CLUSTER=.tmp/cluster reuses one started by `make cluster-up` (softtenant installed).
import { useControlPlaneBinaries } from '../support/controlplane.js';
import { join } from 'node:path';
import { clusterDir, clusterDown, clusterUp, reuseCluster } from './cluster.js';

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    this.timeout(60 * 60 * 1000); // a cold run builds the kubelet and the images first
    useControlPlaneBinaries();
    if (reuseCluster) {
      process.env.KUBECONFIG = join(clusterDir, 'controlplane/kubeconfig');
      return;
    }
    try {
      process.env.KUBECONFIG = clusterUp();
    } catch (err) {
      clusterDown();
      throw err;
    }
  },
  afterAll(this: Mocha.Context): void {
    this.timeout(120_000);
    if (!reuseCluster) clusterDown();
  },
};
