// The agent's view of the cluster from the API server: one watch cache each for Pods,
// Namespaces and NetworkPolicies (pods trimmed to what the model reads), behind the
// ClusterSource port the agent loop reads.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Namespace, NetworkPolicy, Pod } from '../api/networkpolicy.js';
import { requestJson } from '../kube/raw-request.js';
import type { Logger } from '../util/logger.js';
import { trimPod } from './pod-trim.js';
import type { ClusterSnapshot, ClusterSource } from './ports.js';
import { WatchCache, type PlainList } from './watch-cache.js';

export class WatchedCluster implements ClusterSource {
  private readonly pods: WatchCache<Pod>;
  private readonly namespaces: WatchCache<Namespace>;
  private readonly policies: WatchCache<NetworkPolicy>;
  private changed: () => void = () => undefined;

  constructor(kc: KubeConfig, log: Logger) {
    const poke = (): void => this.changed();
    this.pods = new WatchCache(
      kc,
      '/api/v1/pods',
      () => requestJson<PlainList<Pod>>(kc, 'GET', '/api/v1/pods'),
      poke,
      log,
      trimPod,
    );
    this.namespaces = new WatchCache(
      kc,
      '/api/v1/namespaces',
      () => requestJson<PlainList<Namespace>>(kc, 'GET', '/api/v1/namespaces'),
      poke,
      log,
    );
    this.policies = new WatchCache(
      kc,
      '/apis/networking.k8s.io/v1/networkpolicies',
      () => requestJson<PlainList<NetworkPolicy>>(kc, 'GET', '/apis/networking.k8s.io/v1/networkpolicies'),
      poke,
      log,
    );
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

  snapshot(): ClusterSnapshot {
    return { namespaces: this.namespaces.items(), pods: this.pods.items(), policies: this.policies.items() };
  }

  async stop(): Promise<void> {
    this.changed = () => undefined;
    await Promise.all([this.pods.stop(), this.namespaces.stop(), this.policies.stop()]);
  }
}
