// Errors a reconcile returns to the queue: the queue retries both with backoff; they differ in
// how loudly they are reported.
import { WriteConflict } from './client.js';

/** Some writes failed; the status and an Event already say which. */
export class ReconcileError extends Error {
  constructor(
    readonly tenant: string,
    readonly failures: string[],
  ) {
    super(`reconciling SoftTenant ${tenant}: ${failures.join('; ')}`);
    this.name = 'ReconcileError';
  }
}

/** A write lost a race with another writer; a retry with fresh reads will settle it. */
export class StaleReadError extends Error {
  constructor(
    readonly tenant: string,
    what: string,
    options?: { cause?: unknown },
  ) {
    super(`reconciling SoftTenant ${tenant}: ${what} changed meanwhile; retrying with fresh reads`, options);
    this.name = 'StaleReadError';
  }
}

/** Runs a guarded write; a lost race (conflict, failed test op) becomes a StaleReadError. */
export async function staleReadAware<T>(tenant: string, what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof WriteConflict) throw new StaleReadError(tenant, what, { cause: err });
    throw err;
  }
}
