// The node's pod address ranges, for the fail-closed guard: from --pod-cidr, or from the Node
// object (spec.podCIDRs, which kube-controller-manager's node IPAM fills in shortly after the
// node registers; the older single spec.podCIDR as a fallback). Until they are known the node
// runs fail-open and says so in its report; the agent asks again every few seconds.
import type { KubeAccess } from '../kube/config.js';
import type { Cidr } from '../net/address.js';
import { parsePodCidrs } from '../dataplane/fail-closed.js';
import { requestJson } from '../kube/raw-request.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

interface NodeSpecOnly {
  spec?: { podCIDR?: string; podCIDRs?: string[] };
}

/** The pod CIDRs the Node object lists (empty when none is assigned yet). */
export async function nodePodCidrs(kc: KubeAccess, node: string): Promise<string[]> {
  const obj = await requestJson<NodeSpecOnly>(kc, 'GET', `/api/v1/nodes/${encodeURIComponent(node)}`);
  const list = obj.spec?.podCIDRs ?? [];
  return list.length > 0 ? list : obj.spec?.podCIDR ? [obj.spec.podCIDR] : [];
}

/**
 * Polls `read` until it gives at least one range, then calls `found` once. Returns a stop
 * function. A malformed range is logged and treated as none (the node stays fail-open).
 */
export function watchPodCidrs(
  read: () => Promise<string[]>,
  found: (cidrs: Cidr[]) => void,
  log: Logger,
  everyMs = 5_000,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (): Promise<void> => {
    let why: string;
    try {
      const texts = await read();
      if (texts.length > 0) {
        found(parsePodCidrs(texts));
        return;
      }
      why = 'the Node has no spec.podCIDRs yet';
    } catch (err) {
      why = errorMessage(err);
    }
    log.warn('pod CIDRs of the node unknown; new pods are not guarded yet', {
      error: why,
      retryInMs: everyMs,
    });
    if (!stopped) timer = setTimeout(() => void attempt(), everyMs);
  };
  void attempt();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
