// The optional readiness gate `tenancy.softtenant.io/enforced` (issue 13). A pod that lists it in
// spec.readinessGates is Ready only when the kubelet sees every container ready AND a pod
// condition of that type True. The agent sets that condition, through the pods/status
// subresource, once the pod's address is programmed on its node (it is in the node's model and
// the apply that included it succeeded). So Services send a gated pod no traffic, and a
// Deployment's rollout does not move on, before its rules are in place.
//
// podsToMark is pure; GateWriter is the edge: level-triggered (each sync hands it the full list
// of pods still to mark), a few patches in flight, failures retried with backoff, and no write for
// a pod whose condition the watch already shows True.
import type { KubeAccess } from '../kube/config.js';
import type { Pod } from '../api/networkpolicy.js';
import type { NodeRender } from '../dataplane/render-node.js';
import { ApiError, requestJson } from '../kube/raw-request.js';
import type { ClusterObjects } from '../netpol/types.js';
import { objectKey } from '../netpol/types.js';
import { Backoff } from '../util/backoff.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { rfc3339 } from '../util/time.js';

export const ENFORCED_GATE = 'tenancy.softtenant.io/enforced';

export interface GatedPod {
  namespace: string;
  name: string;
  uid: string;
}

export function hasEnforcedGate(pod: Pod): boolean {
  return (pod.spec?.readinessGates ?? []).some((g) => g.conditionType === ENFORCED_GATE);
}

function gateIsTrue(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === ENFORCED_GATE && c.status === 'True');
}

/** Gated pods of the render's node whose rules are programmed and whose condition is not True yet. */
export function podsToMark(snapshot: ClusterObjects, render: Pick<NodeRender, 'model'>): GatedPod[] {
  const programmed = new Set(render.model.pods.map((p) => objectKey(p.namespace, p.name)));
  const out: GatedPod[] = [];
  for (const pod of snapshot.pods) {
    if (pod.spec?.nodeName !== render.model.node || !hasEnforcedGate(pod) || gateIsTrue(pod)) continue;
    const namespace = pod.metadata.namespace ?? 'default';
    if (!programmed.has(objectKey(namespace, pod.metadata.name)) || !pod.metadata.uid) continue;
    out.push({ namespace, name: pod.metadata.name, uid: pod.metadata.uid });
  }
  return out;
}

/** The write the gate needs: the condition on a pod's status subresource. */
export interface PodConditionApi {
  /** 'gone' when the pod no longer exists (or is another pod of the same name). */
  markEnforced(pod: GatedPod, at: string): Promise<'patched' | 'gone'>;
}

/** PodConditionApi on the API server: a strategic merge patch of pods/status (conditions merge by type). */
export function kubePodConditions(kc: KubeAccess): PodConditionApi {
  return {
    async markEnforced(pod, at) {
      const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/status`;
      const body = {
        // The UID makes the patch fail (409/422) on a pod recreated under the same name.
        metadata: { uid: pod.uid },
        status: {
          conditions: [
            {
              type: ENFORCED_GATE,
              status: 'True',
              reason: 'RulesProgrammed',
              message: 'the NetworkPolicy rules of this pod are programmed on its node',
              lastTransitionTime: at,
            },
          ],
        },
      };
      try {
        await requestJson(kc, 'PATCH', path, body, 'application/strategic-merge-patch+json');
        return 'patched';
      } catch (err) {
        if (err instanceof ApiError && [404, 409, 422].includes(err.statusCode)) return 'gone';
        throw err;
      }
    },
  };
}

export interface GateWriterOptions {
  /** Patches in flight at once (a burst of 100 new pods is marked in parallel, not one by one). */
  concurrency?: number;
  clock?: Clock;
  random?: () => number;
}

export class GateWriter {
  private wanted = new Map<string, GatedPod>();
  /** UIDs written, until the watch shows their condition (then they are no longer wanted). */
  private readonly written = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly concurrency: number;
  private retryTimer: unknown;
  private stopped = false;
  /** Successful patches, for tests and logs. */
  writes = 0;

  constructor(
    private readonly api: PodConditionApi,
    private readonly log: Logger,
    opts: GateWriterOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.concurrency = opts.concurrency ?? 8;
    this.backoff = new Backoff(500, 30_000, opts.random);
  }

  /** The pods that are programmed and not yet marked (the whole list, each sync). */
  update(pods: readonly GatedPod[]): void {
    this.wanted = new Map(pods.map((p) => [p.uid, p]));
    for (const uid of this.written) if (!this.wanted.has(uid)) this.written.delete(uid);
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.retryTimer);
  }

  /** Resolves when nothing is in flight (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise<void>((r) => setImmediate(r));
  }

  private pump(): void {
    if (this.stopped || this.retryTimer) return;
    for (const pod of this.wanted.values()) {
      if (this.inFlight.size >= this.concurrency) return;
      if (this.written.has(pod.uid) || this.inFlight.has(pod.uid)) continue;
      this.inFlight.add(pod.uid);
      void this.write(pod);
    }
  }

  private async write(pod: GatedPod): Promise<void> {
    const where = objectKey(pod.namespace, pod.name);
    try {
      const r = await this.api.markEnforced(pod, rfc3339(new Date(this.clock.now())));
      this.written.add(pod.uid);
      this.backoff.reset();
      if (r === 'patched') {
        this.writes++;
        this.log.info('pod marked enforced', { pod: where, gate: ENFORCED_GATE });
      }
    } catch (err) {
      const delay = this.backoff.next();
      this.log.warn('marking pod enforced failed; will retry', {
        pod: where,
        delayMs: delay,
        error: (err as Error).message,
      });
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, delay);
    } finally {
      this.inFlight.delete(pod.uid);
      this.pump();
    }
  }
}
