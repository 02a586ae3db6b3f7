// Waits until the API server accepts a watch on a resource. Right after a CRD is created (an
// Argo CD sync wave installs CRDs, then the operator) its watch cache may still be initialising
// and the server answers 429 with Retry-After; the framework's watch treats any error as fatal and
// exits the process, so the operator asks first and waits instead of crash-looping.
import type { KubeConfig } from '@kubernetes/client-node';
import { requestStatus } from './raw-request.js';

/** Statuses that say "not yet", not "never". */
const TRANSIENT = new Set([429, 500, 503, 504]);

export interface WatchReadyOptions {
  timeoutMs?: number;
  onWait?: (statusCode: number, waitMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

export async function waitUntilWatchable(
  kc: KubeConfig,
  collectionPath: string,
  options: WatchReadyOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { statusCode, retryAfterSeconds } = await requestStatus(
      kc,
      `${collectionPath}?watch=1&timeoutSeconds=1&limit=1`,
    );
    if (statusCode >= 200 && statusCode < 300) return;
    if (!TRANSIENT.has(statusCode) || Date.now() >= deadline) {
      throw new Error(`cannot watch ${collectionPath}: the API server answers ${statusCode}`);
    }
    const waitMs = Math.min(5_000, Math.max(250, (retryAfterSeconds ?? 1) * 1000));
    options.onWait?.(statusCode, waitMs);
    await sleep(waitMs);
  }
}
