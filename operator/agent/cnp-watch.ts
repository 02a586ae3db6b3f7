// The agent's watch of ClusterNetworkPolicies (policy.networking.k8s.io/v1beta1; the CRD also
// serves v1alpha2 with the same schema, and the API server converts, so one version is read).
//
// The CRD is sig-network's, shared by every enforcer of a cluster, and may not be installed: then
// the API group is not served, the watch holds no policies and counts as listed (the agent must
// not wait for a resource that does not exist), and it looks again every `recheckMs`; once the
// group is served, the informer starts and every policy it lists is a change. Any other error of
// the discovery (no route, 403) is retried and keeps the watch unlisted: the agent does not
// program from a view that may lack an Admin Deny.
import type { KubeAccess } from '../kube/config.js';
import {
  CNP_GROUP,
  CNP_PLURAL,
  CNP_VERSION,
  type ClusterNetworkPolicy,
} from '../api/clusternetworkpolicy.js';
import { Informer, type Cached } from '../kube/informer.js';
import { slim } from '../kube/slim.js';
import { ApiError, requestJson } from '../kube/raw-request.js';
import { Backoff } from '../util/backoff.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export const CNP_GROUP_VERSION_PATH = `/apis/${CNP_GROUP}/${CNP_VERSION}`;
export const CNP_COLLECTION_PATH = `${CNP_GROUP_VERSION_PATH}/${CNP_PLURAL}`;

type Served = 'served' | 'absent';

/** Whether the API server serves ClusterNetworkPolicy v1beta1; throws on anything but yes or no. */
async function discover(kc: KubeAccess): Promise<Served> {
  try {
    const list = await requestJson<{ resources?: { name?: string }[] }>(kc, 'GET', CNP_GROUP_VERSION_PATH);
    return (list.resources ?? []).some((r) => r.name === CNP_PLURAL) ? 'served' : 'absent';
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 404) return 'absent';
    throw err;
  }
}

export class ClusterNetworkPolicyWatch {
  private informer: Informer<ClusterNetworkPolicy & Cached> | undefined;
  private changed: () => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private syncedResolve: (() => void) | undefined;
  private readonly backoff = new Backoff(500, 30_000);
  /** Resolves once the policies were listed, or the API server said it serves none. */
  readonly synced: Promise<void>;

  constructor(
    private readonly kc: KubeAccess,
    private readonly log: Logger,
    private readonly recheckMs = 30_000,
  ) {
    this.synced = new Promise((resolve) => (this.syncedResolve = resolve));
  }

  start(changed: () => void): void {
    this.changed = changed;
    this.stopped = false;
    void this.check();
  }

  private async check(): Promise<void> {
    if (this.stopped || this.informer) return;
    let next = this.recheckMs;
    try {
      if ((await discover(this.kc)) === 'served') {
        if (this.stopped) return;
        this.startInformer();
        return;
      }
      this.backoff.reset();
      if (this.syncedResolve) {
        this.log.info('ClusterNetworkPolicy is not served (CRD not installed): none enforced', {
          path: CNP_GROUP_VERSION_PATH,
          recheckMs: this.recheckMs,
        });
        this.markSynced();
      }
    } catch (err) {
      next = this.backoff.next();
      this.log.warn('cannot tell whether ClusterNetworkPolicy is served; retrying', {
        path: CNP_GROUP_VERSION_PATH,
        error: errorMessage(err),
        retryInMs: next,
      });
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.check(), next);
  }

  private startInformer(): void {
    const informer = new Informer<ClusterNetworkPolicy & Cached>(this.kc, {
      path: CNP_COLLECTION_PATH,
      trim: slim,
      log: this.log,
    });
    informer.onEvent(() => this.changed());
    this.informer = informer;
    informer.start();
    void informer.synced.then(() => {
      this.markSynced();
      // Policies that appear after the agent started (the CRD installed later) are a change.
      this.changed();
    });
  }

  private markSynced(): void {
    this.syncedResolve?.();
    this.syncedResolve = undefined;
  }

  list(): ClusterNetworkPolicy[] {
    return this.informer ? this.informer.list() : [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.changed = () => undefined;
    if (this.timer) clearTimeout(this.timer);
    await this.informer?.stop();
  }
}
