// Mocha root hooks of the nodes suite: one real cluster with softtenant installed for the run,
// brought up before the first test and torn down after the last, also when tests fail.
import { useControlPlaneBinaries } from '../support/controlplane.js';
import { clusterDown, clusterUp } from './cluster.js';

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    this.timeout(60 * 60 * 1000); // a cold run builds the kubelet and the images first
    useControlPlaneBinaries();
    try {
      process.env.KUBECONFIG = clusterUp();
    } catch (err) {
      clusterDown();
      throw err;
    }
  },
  afterAll(this: Mocha.Context): void {
    this.timeout(120_000);
    clusterDown();
  },
};
