// A plain JSON request against the API server with the kubeconfig's credentials. The typed
// client-node calls return model classes (dates as Date objects); the pure parts and the
// watch caches want the objects exactly as the API serves them.
import { KeyObject } from 'node:crypto';
import https from 'node:https';
import { resourceOfPath } from './api-path.js';
import type { KubeAccess } from './config.js';
import type { TokenBucket } from '../util/token-bucket.js';

/** The process's client-side rate limit (none unless a binary sets one). */
let limiter: TokenBucket | undefined;

/**
 * Every requestJson() of this process waits for a token of `bucket` (undefined: no limit),
 * except the requests of callers that keep a budget of their own (`ownBudget`).
 */
export function limitRequests(bucket: TokenBucket | undefined): void {
  limiter = bucket;
}

/** What the process's requests report to its metrics (metrics/rest-client-metrics.ts). */
export interface RequestObserver {
  /** Seconds a request waited for a token of the client-side limit. */
  limiterWait(seconds: number): void;
  /**
   * One request answered (or failed): its verb, the resource its path names (kube/api-path.ts),
   * the status code (0: no answer), seconds.
   */
  answered(verb: string, resource: string, code: number, seconds: number): void;
}

let observer: RequestObserver | undefined;

/** Every requestJson() of this process reports to `next` (undefined: to nobody). */
export function observeRequests(next: RequestObserver | undefined): void {
  observer = next;
}

export interface RequestOptions {
  /**
   * The caller keeps a budget of its own (rate and concurrency): the request takes no token of
   * the process's limit and goes over connections of its own. Events do (controller/recorder.ts):
   * they neither wait behind the reconciles' requests nor take the tokens or connections the
   * reconciles need.
   */
  ownBudget?: boolean;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * One keep-alive agent per kubeconfig and TLS material. client-node's applyToHTTPSOptions builds
 * a new Agent for every call, so every request would open a new TLS connection (a full handshake
 * and a new OpenSSL context of the CA and client certificate on both ends). Measured in
 * `make bench-operator`, that was most of the operator's CPU per write and memory that grew with
 * the number of writes (docs/design.md). Requests reuse connections instead; the credentials are
 * still read per request (a rotated token or certificate takes effect; new TLS material gets a
 * new agent).
 */
const agents = new WeakMap<KubeAccess, { material: TlsMaterial; agent: https.Agent }>();
/** The same for requests on their own budget (Events): their connections are apart. */
const ownBudgetAgents = new WeakMap<KubeAccess, { material: TlsMaterial; agent: https.Agent }>();

/** What an agent's connections are made with: a change needs a new agent. */
export type TlsMaterial = readonly unknown[];

function tlsMaterial(opts: https.RequestOptions): TlsMaterial {
  return [opts.ca, opts.cert, opts.key, opts.rejectUnauthorized, opts.servername, opts.hostname, opts.port];
}

/**
 * Compared field by field, buffers by content: this runs for every request, and serializing
 * certificates and keys to compare them (JSON turns a Buffer into an array of numbers) cost a
 * fifth of the operator's CPU at 5,000 tenants.
 */
export function sameTlsMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (a instanceof KeyObject && b instanceof KeyObject) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return false;
}

/** Connections at most per API server; further requests wait for a free one. */
const MAX_SOCKETS = 32;
/** Connections at most for requests on their own budget (the Event recorder's senders, 16). */
const OWN_BUDGET_SOCKETS = 16;

let connectionsOpened = 0;

/** TLS connections opened by requestJson/requestStatus so far (for tests and the benches). */
export function openedConnections(): number {
  return connectionsOpened;
}

/** An agent that counts the connections it opens. */
class CountingAgent extends https.Agent {
  override createConnection(
    ...args: Parameters<https.Agent['createConnection']>
  ): ReturnType<https.Agent['createConnection']> {
    connectionsOpened += 1;
    return super.createConnection(...args);
  }
}

function sharedAgent(kc: KubeAccess, opts: https.RequestOptions, ownBudget: boolean): https.Agent {
  const pool = ownBudget ? ownBudgetAgents : agents;
  const material = tlsMaterial(opts);
  const known = pool.get(kc);
  if (known && sameTlsMaterial(known.material, material)) return known.agent;
  known?.agent.destroy();
  const agent = new CountingAgent({
    keepAlive: true,
    maxSockets: ownBudget ? OWN_BUDGET_SOCKETS : MAX_SOCKETS,
    ca: opts.ca,
    cert: opts.cert,
    key: opts.key,
    ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
    ...(opts.servername ? { servername: opts.servername } : {}),
  });
  pool.set(kc, { material, agent });
  return agent;
}

/**
 * The host to dial for a URL: WHATWG URLs keep an IPv6 literal in brackets
 * (`https://[fd00:10:96::1]:443` has hostname `[fd00:10:96::1]`), which `https.request` would
 * hand to the resolver as a name. In-cluster config builds exactly that URL in a cluster whose
 * primary family is IPv6 (KUBERNETES_SERVICE_HOST is the IPv6 ClusterIP).
 */
export function dialHost(url: URL): string {
  return url.hostname.startsWith('[') && url.hostname.endsWith(']')
    ? url.hostname.slice(1, -1)
    : url.hostname;
}

/** Request options for a path on the current cluster, with the kubeconfig's credentials. */
async function requestOptions(
  kc: KubeAccess,
  method: string,
  path: string,
  ownBudget = false,
): Promise<https.RequestOptions> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in kubeconfig');
  const url = new URL(path, cluster.server);
  const opts: https.RequestOptions = {
    method,
    protocol: url.protocol,
    hostname: dialHost(url),
    port: url.port,
    path: url.pathname + url.search,
    headers: { Accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(opts);
  // A proxy (cluster.proxyUrl) needs client-node's proxy agent; only the direct case is shared.
  if (url.protocol === 'https:' && !kc.getCurrentCluster()?.proxyUrl)
    opts.agent = sharedAgent(kc, opts, ownBudget);
  return opts;
}

/** Status code and Retry-After of a GET, as soon as the response head arrives; the body is not read. */
export async function requestStatus(
  kc: KubeAccess,
  path: string,
): Promise<{ statusCode: number; retryAfterSeconds?: number }> {
  const opts = await requestOptions(kc, 'GET', path);
  return new Promise((resolve, reject) => {
    const req = https.request(opts, (res) => {
      const retry = Number(res.headers['retry-after']);
      resolve({
        statusCode: res.statusCode ?? 0,
        ...(Number.isFinite(retry) && retry > 0 ? { retryAfterSeconds: retry } : {}),
      });
      // A watch that was accepted would stream until its timeout: the head is all we asked.
      req.destroy();
    });
    req.on('error', (err) => reject(new Error(`GET ${path}: ${err.message}`, { cause: err })));
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30s')));
    req.end();
  });
}

export async function requestJson<T>(
  kc: KubeAccess,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  options: RequestOptions = {},
): Promise<T> {
  const ownBudget = options.ownBudget === true;
  if (limiter && !ownBudget) {
    const asked = performance.now();
    await limiter.take();
    observer?.limiterWait((performance.now() - asked) / 1000);
  }
  const sent = performance.now();
  const answered = (code: number): void =>
    observer?.answered(method, resourceOfPath(path), code, (performance.now() - sent) / 1000);
  const opts = await requestOptions(kc, method, path, ownBudget);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) {
    opts.headers = {
      ...opts.headers,
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(payload),
    };
  }
  return new Promise<T>((resolve, reject) => {
    const req = https.request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        answered(status);
        if (status >= 200 && status < 300) {
          try {
            resolve((text ? JSON.parse(text) : undefined) as T);
          } catch (err) {
            reject(new Error(`${method} ${path}: invalid JSON response`, { cause: err }));
          }
          return;
        }
        reject(new ApiError(`${method} ${path}: ${status} ${statusMessage(text)}`, status, text));
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      answered(0);
      reject(new Error(`${method} ${path}: ${err.message}`, { cause: err }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30s')));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * A streaming GET (a watch): calls `onLine` for every newline-terminated line of the response
 * as it arrives, and resolves when the API server ends the response (a watch's timeoutSeconds).
 * Rejects with an ApiError for a status other than 2xx, and with an Error when the connection
 * fails, `signal` aborts it, or nothing arrives for `idleMs` (a connection that died silently).
 */
export async function streamLines(
  kc: KubeAccess,
  path: string,
  onLine: (line: string) => void,
  options: { idleMs: number; signal?: AbortSignal },
): Promise<void> {
  if (limiter) await limiter.take();
  const opts = await requestOptions(kc, 'GET', path);
  return new Promise<void>((resolve, reject) => {
    const req = https.request(opts, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          reject(new ApiError(`GET ${path}: ${status} ${statusMessage(text)}`, status, text));
        });
        return;
      }
      res.setEncoding('utf8');
      let pending = '';
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.trim() !== '') onLine(line);
        }
      });
      res.on('end', () => {
        if (pending.trim() !== '') onLine(pending);
        resolve();
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`GET ${path}: the response was cut off`)));
    });
    const abort = (): void => void req.destroy(new Error(`GET ${path}: stopped`));
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    req.on('close', () => options.signal?.removeEventListener('abort', abort));
    req.on('error', (err) => reject(new Error(`GET ${path}: ${err.message}`, { cause: err })));
    req.setTimeout(options.idleMs, () =>
      req.destroy(new Error(`nothing received for ${Math.round(options.idleMs / 1000)}s`)),
    );
    req.end();
  });
}

/** The message of a Status body, or the body itself. */
function statusMessage(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    return text;
  }
}
