// One Prometheus registry per process (never prom-client's global one, so tests can build
// several side by side), with the Node.js process metrics, served at /metrics.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { EndpointHandler } from '../util/http-endpoint.js';

export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function metricsRoutes(registry: Registry): Record<string, EndpointHandler> {
  return {
    '/metrics': async () => ({
      status: 200,
      contentType: registry.contentType,
      body: await registry.metrics(),
    }),
  };
}
