// Counts and logs every write the operator sends to the API server, so "no writes at rest" is
// something one can measure (the integration tests read these log lines).
import { logger } from '../util/logger.js';

export interface WriteRecord {
  verb: string;
  kind: string;
  namespace?: string;
  name: string;
}

const log = logger('kube');

export class WriteMeter {
  private total = 0;
  private readonly listeners: ((write: WriteRecord) => void)[] = [];

  /** Logs the write as `api write` with the object it touches, then runs it. */
  async record<T>(write: WriteRecord, run: () => Promise<T>): Promise<T> {
    this.total += 1;
    log.info('api write', { ...write });
    for (const listener of this.listeners) listener(write);
    return run();
  }

  /** Also tells `listener` about every write (the operator's metrics). */
  onWrite(listener: (write: WriteRecord) => void): void {
    this.listeners.push(listener);
  }

  get count(): number {
    return this.total;
  }
}
