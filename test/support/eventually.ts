// Polling for asynchronous outcomes: retry an assertion until it holds or time runs out, then
// fail with the last assertion error (so the message says what was still wrong).
import { errorMessage } from '../../operator/util/errors.js';

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export async function eventually<T>(
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 300;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline) {
        const message = errorMessage(err);
        throw new Error(`still failing after ${timeoutMs} ms: ${message}`, { cause: err });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
