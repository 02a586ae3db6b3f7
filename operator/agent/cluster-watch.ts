// The agent's view of the cluster from the API server: one informer (the read path both binaries
// share, operator/kube/informer.ts) each for Pods, Namespaces and NetworkPolicies (and the
// ClusterNetworkPolicies, when their CRD is installed: cnp-watch.ts), behind the
// ClusterSource port the agent loop reads. Lists come in pages and pods are trimmed page by page
// to what the model reads, so the agent never holds a large cluster's pods whole, nor twice;
// namespaces and policies lose their managedFields (kube/slim.ts).
import type { KubeAccess } from '../kube/config.js';
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { Informer, type Cached } from '../kube/informer.js';
import { slim } from '../kube/slim.js';
import type { Logger } from '../util/logger.js';
import type { ClusterObjects } from '../netpol/types.js';
import { POD_LIST_PAGE_SIZE, trimPod } from './pod-trim.js';
import { ClusterNetworkPolicyWatch } from './cnp-watch.js';
import type { ClusterSource } from './ports.js';

export class WatchedCluster implements ClusterSource {
  private readonly pods: Informer<Pod & Cached>;
  private readonly namespaces: Informer<Namespace & Cached>;
  private readonly policies: Informer<NetworkPolicy & Cached>;
  private readonly cnps: ClusterNetworkPolicyWatch;
  private changed: () => void = () => undefined;

  constructor(kc: KubeAccess, log: Logger, options: { podPageSize?: number } = {}) {
    const watch = <T extends Cached>(path: string, trim?: (obj: T) => T, pageSize?: number): Informer<T> => {
      const informer = new Informer<T>(kc, {
        path,
        log,
        ...(trim ? { trim } : {}),
        ...(pageSize ? { pageSize } : {}),
      });
      informer.onEvent(() => this.changed());
      return informer;
    };
    this.pods = watch<Pod & Cached>(
      '/api/v1/pods',
      (pod) => trimPod(pod) as Pod & Cached,
      options.podPageSize ?? POD_LIST_PAGE_SIZE,
    );
    this.namespaces = watch<Namespace & Cached>('/api/v1/namespaces', slim);
    this.policies = watch<NetworkPolicy & Cached>('/apis/networking.k8s.io/v1/networkpolicies', slim);
    this.cnps = new ClusterNetworkPolicyWatch(kc, log);
  }

  start(changed: () => void): void {
    this.changed = changed;
    this.pods.start();
    this.namespaces.start();
    this.policies.start();
    this.cnps.start(() => this.changed());
  }

  async synced(): Promise<void> {
    await Promise.all([this.pods.synced, this.namespaces.synced, this.policies.synced, this.cnps.synced]);
  }

  snapshot(): ClusterObjects {
    return {
      namespaces: this.namespaces.list(),
      pods: this.pods.list(),
      policies: this.policies.list(),
      clusterNetworkPolicies: this.cnps.list(),
    };
  }

  async stop(): Promise<void> {
    this.changed = () => undefined;
    await Promise.all([this.pods.stop(), this.namespaces.stop(), this.policies.stop(), this.cnps.stop()]);
  }
}
