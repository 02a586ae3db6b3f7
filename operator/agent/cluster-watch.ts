// The agent's view of the cluster from the API server: one watch cache each for Pods,
// Namespaces and NetworkPolicies (pods trimmed to what the model reads), behind the
// ClusterSource port the agent loop reads.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { requestJson } from '../kube/raw-request.js';
import type { Logger } from '../util/logger.js';
import type { ClusterObjects } from '../netpol/types.js';
import { trimPod } from './pod-trim.js';
import type { ClusterSource } from './ports.js';
import { WatchCache, type PlainList } from './watch-cache.js';

export class WatchedCluster implements ClusterSource {
  private readonly pods: WatchCache<Pod>;
  private readonly namespaces: WatchCache<Namespace>;
  private readonly policies: WatchCache<NetworkPolicy>;
  private changed: () => void = () => undefined;

  constructor(kc: KubeConfig, log: Logger) {
    const watch = <T extends { metadata?: { name?: string; namespace?: string } }>(
      path: string,
      prepare?: (obj: T) => void,
    ): WatchCache<T> =>
      new WatchCache<T>(
        kc,
        path,
        () => requestJson<PlainList<T>>(kc, 'GET', path),
        () => this.changed(),
        log,
        prepare,
      );
    this.pods = watch<Pod>('/api/v1/pods', trimPod);
    this.namespaces = watch<Namespace>('/api/v1/namespaces');
    this.policies = watch<NetworkPolicy>('/apis/networking.k8s.io/v1/networkpolicies');
  }

  start(changed: () => void): void {
    this.changed = changed;
    this.pods.start();
    this.namespaces.start();
    this.policies.start();
  }

  async synced(): Promise<void> {
    await Promise.all([this.pods.synced, this.namespaces.synced, this.policies.synced]);
  }

  snapshot(): ClusterObjects {
    return { namespaces: this.namespaces.items(), pods: this.pods.items(), policies: this.policies.items() };
  }

  async stop(): Promise<void> {
    this.changed = () => undefined;
    await Promise.all([this.pods.stop(), this.namespaces.stop(), this.policies.stop()]);
  }
}
