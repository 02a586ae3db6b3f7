// A tiny HTTP server for the operational endpoints (/metrics, /healthz, /readyz): GET only, one
// handler per exact path, everything else 404. Kept apart from the Kubernetes code on purpose.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import { formatAddress, type BindAddress } from './bind-address.js';
import { errorMessage } from './errors.js';

export interface EndpointResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Called with the query string's parameters (e.g. `verbose` for the probes). */
export type EndpointHandler = (query: URLSearchParams) => EndpointResponse | Promise<EndpointResponse>;

export interface RunningEndpoint {
  /** The address actually bound (the real port when 0 was asked for). */
  address: string;
  port: number;
  close(): Promise<void>;
}

export async function serveEndpoints(
  name: string,
  bind: BindAddress,
  routes: Record<string, EndpointHandler>,
  log: Logger,
): Promise<RunningEndpoint> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://endpoint');
    const handler = routes[url.pathname];
    const reply = (r: EndpointResponse): void => {
      res.writeHead(r.status, { 'Content-Type': r.contentType });
      res.end(req.method === 'HEAD' ? undefined : r.body);
    };
    if (!handler) return reply({ status: 404, contentType: 'text/plain', body: 'not found\n' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply({ status: 405, contentType: 'text/plain', body: 'method not allowed\n' });
    }
    Promise.resolve()
      .then(() => handler(url.searchParams))
      .then(reply, (err: unknown) => {
        log.error('endpoint handler failed', {
          endpoint: name,
          path: url.pathname,
          error: errorMessage(err),
        });
        reply({ status: 500, contentType: 'text/plain', body: 'internal error\n' });
      });
  });
  // Probes and scrapes are short; do not let an idle connection hold shutdown up.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`serving ${name} on ${describeBind(bind)}: ${err.message}`, { cause: err })),
    );
    server.listen({ port: bind.port, ...(bind.host ? { host: bind.host } : {}) }, resolve);
  });
  const info = server.address() as AddressInfo;
  const address = formatAddress(info.address, info.port);
  log.info('serving endpoint', { endpoint: name, address, paths: Object.keys(routes) });
  return {
    address,
    port: info.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function describeBind(bind: BindAddress): string {
  return formatAddress(bind.host ?? '', bind.port);
}
