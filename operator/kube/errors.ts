// API errors reduced to what callers decide on: the HTTP status and the API server's own
// message, wrapped with what we were doing. Every API call goes through the raw request path
// (ApiError, raw-request.ts); no typed client-node client is used.
import { errorMessage } from '../util/errors.js';
import { ApiError } from './raw-request.js';

/** HTTP status of a failed API call, or undefined when the call never got an answer. */
export function apiStatusCode(err: unknown): number | undefined {
  if (err instanceof ApiError) return err.statusCode;
  if (err instanceof KubeApiError) return err.code;
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return apiStatusCode(err) === 404;
}

/**
 * A write lost a race: a resourceVersion precondition did not hold (409), or a guarded JSON
 * patch's `test` op failed (see guardedPatch). Such errors are retried without alarming anyone.
 */
export function isConflict(err: unknown): boolean {
  if (err instanceof KubeApiError && err.staleRead) return true;
  return apiStatusCode(err) === 409;
}

function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return body.trim() === '' ? undefined : body.trim();
    }
  }
  if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
    const message = (parsed as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return undefined;
}

/** The API server's Status message when there is one, else the error's own message. */
export function apiMessage(err: unknown): string {
  if (err instanceof KubeApiError) return err.apiMessage;
  if (err instanceof ApiError) return statusMessage(err.body) ?? `HTTP ${err.statusCode}`;
  return errorMessage(err);
}

/** An API call that failed, naming the call ("applying NetworkPolicy a/b") and the server's reason. */
export class KubeApiError extends Error {
  readonly code: number | undefined;
  readonly apiMessage: string;
  /** The write was refused because the object changed since it was read. */
  readonly staleRead: boolean;

  constructor(what: string, cause: unknown, staleRead = false) {
    const message = staleRead ? 'the object changed since it was read' : apiMessage(cause);
    super(`${what}: ${message}`, { cause });
    this.name = 'KubeApiError';
    this.code = apiStatusCode(cause);
    this.apiMessage = message;
    this.staleRead = staleRead;
  }
}

/** Runs one API call and wraps its failure with context. */
export async function kubeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new KubeApiError(what, err);
  }
}

/**
 * Runs a JSON patch whose first ops are `test`s of what was read. The API server answers a
 * failed test with a bare 422 Invalid (no field causes, unlike a real validation error); that
 * answer is reported as a stale read so that the caller retries with fresh data.
 */
export async function guardedPatch<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new KubeApiError(what, err, isFailedTest(err));
  }
}

function isFailedTest(err: unknown): boolean {
  if (apiStatusCode(err) !== 422) return false;
  let body: unknown = err instanceof ApiError ? err.body : undefined;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return false;
    }
  }
  const details = (body as { details?: { causes?: unknown[] } } | undefined)?.details;
  return !details?.causes || details.causes.length === 0;
}
