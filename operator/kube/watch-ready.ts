// Waits until the API server accepts a watch on a resource. Right after a CRD is created (an
// Argo CD sync wave installs CRDs, then the operator) its watch cache may still be initialising
// and the server answers 429 with Retry-After; the framework's watch treats any error as fatal and
// exits the process, so the operator asks first and waits instead of crash-looping.
import type { KubeConfig } from '@kubernetes/client-node';
import { requestStatus } from './raw-request.js';

/** Statuses that say "not yet", not "never". */
const TRANSIENT = new Set([429, 500, 503, 504]);

/** How long a resource may stay unwatchable before the operator gives up (and exits). */
const TIMEOUT_MS = 60_000;

export async function waitUntilWatchable(
  kc: KubeConfig,
  collectionPath: string,
  onWait: (statusCode: number, waitMs: number) => void = () => undefined,
): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
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
    onWait(statusCode, waitMs);
    await new Promise<void>((r) => setTimeout(r, waitMs));
  }
}
