// Mocha root hooks: one control plane per run of the integration/e2e suites. Set
// SOFTTENANT_KUBECONFIG to reuse a control plane that is already running.
import { startControlPlane, useControlPlaneBinaries, type ControlPlane } from './controlplane.js';

let cp: ControlPlane | undefined;

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    this.timeout(45 * 60 * 1000); // the first run builds the binaries
    useControlPlaneBinaries();
    const external = process.env.SOFTTENANT_KUBECONFIG;
    if (external) {
      process.env.KUBECONFIG = external;
      return;
    }
    cp = startControlPlane();
    process.env.KUBECONFIG = cp.kubeconfig;
  },
  afterAll(): void {
    cp?.stop();
    cp = undefined;
  },
};
