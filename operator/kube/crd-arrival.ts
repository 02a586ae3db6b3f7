// Waits, quietly, for an optional CRD that was not served when the operator started: API
// discovery every `intervalMs` (one small GET; no watch against a missing resource, so no storm
// of failed requests or warnings), resolving true once it is served, false when stopped first.
// An error of the discovery itself (no route, 403) is logged once per kind of message and retried.
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { KubeAccess } from './config.js';
import { resourceServed } from './discovery.js';

export interface CrdArrival {
  /** Resolves true once served, false if stopped before. */
  readonly served: Promise<boolean>;
  stop(): void;
}

export function awaitCrd(
  kc: KubeAccess,
  resource: { group: string; version: string; plural: string },
  options: { intervalMs: number; log: Logger },
): CrdArrival {
  let timer: NodeJS.Timeout | undefined;
  let finish: (served: boolean) => void = () => undefined;
  let lastError: string | undefined;
  let stopped = false;
  const served = new Promise<boolean>((resolve) => (finish = resolve));
  const check = async (): Promise<void> => {
    try {
      if (await resourceServed(kc, resource.group, resource.version, resource.plural)) {
        finish(true);
        return;
      }
    } catch (err) {
      const message = errorMessage(err);
      if (message !== lastError)
        options.log.warn('API discovery failed; retrying', { group: resource.group, error: message });
      lastError = message;
    }
    if (!stopped) timer = setTimeout(() => void check(), options.intervalMs);
  };
  timer = setTimeout(() => void check(), options.intervalMs);
  return {
    served,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      finish(false);
    },
  };
}
