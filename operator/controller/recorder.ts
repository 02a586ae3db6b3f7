// Records Events on SoftTenants. A Warning repeated within a window (a failure retried with
// backoff) is sent once, so a stuck tenant does not flood the API server; Normal events report
// changes that happened and are always sent. A failure to record an event is logged and never
// fails the reconcile that wanted to report something.
import { logger } from '../util/logger.js';
import type { TenantClient, TenantEvent } from './client.js';
import { errorMessage } from '../util/errors.js';

export const DEFAULT_REPEAT_WINDOW_MS = 10 * 60 * 1000;

export class EventRecorder {
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly client: Pick<TenantClient, 'createEvent'>,
    private readonly now: () => number = Date.now,
    private readonly repeatWindowMs: number = DEFAULT_REPEAT_WINDOW_MS,
  ) {}

  async record(event: TenantEvent): Promise<void> {
    const meta = event.tenant.metadata;
    const key = [meta.uid, event.type, event.reason, event.note].join('\u0000');
    const at = this.now();
    if (event.type === 'Warning') {
      const last = this.lastSent.get(key);
      if (last !== undefined && at - last < this.repeatWindowMs) return;
      this.lastSent.set(key, at);
      this.prune(at);
    }
    try {
      await this.client.createEvent(event);
    } catch (err) {
      logger('events', { tenant: meta.name }).warn('could not record event', {
        reason: event.reason,
        error: errorMessage(err),
      });
    }
  }

  private prune(at: number): void {
    for (const [key, sent] of this.lastSent) if (at - sent >= this.repeatWindowMs) this.lastSent.delete(key);
  }
}

/** Objects for an Event note, "a/b, c/d", shortened when long (notes are limited to 1 kB). */
export function noteList(keys: readonly string[], limit = 10): string {
  const shown = keys.slice(0, limit).join(', ');
  return keys.length > limit ? `${shown} and ${keys.length - limit} more` : shown;
}
