// Client-side metrics of the process's API requests, as client-go's rest_client_* ones: how long
// requests waited for the client-side limit (--kube-api-qps/--kube-api-burst) and how long the
// API server took to answer, by verb. Together they tell whether a slow convergence is the
// limit's doing (waits grow) or the API server's (latency grows).
import { Counter, Histogram, type Registry } from 'prom-client';
import { observeRequests } from '../kube/raw-request.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Registers the metrics in `registry` and makes every requestJson() of the process report to them. */
export function meterRestClient(registry: Registry): void {
  const registers = [registry];
  const limiterWait = new Histogram({
    name: 'softtenant_rest_client_rate_limiter_duration_seconds',
    help: 'Seconds an API request waited for the client-side rate limit (--kube-api-qps, --kube-api-burst).',
    buckets: [0.001, ...LATENCY_BUCKETS],
    registers,
  });
  const latency = new Histogram({
    name: 'softtenant_rest_client_request_duration_seconds',
    help: 'Seconds from sending an API request to its answer (watches aside), by verb.',
    labelNames: ['verb'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const requests = new Counter({
    name: 'softtenant_rest_client_requests_total',
    help: 'API requests answered, by verb, resource and status code (code 0: no answer, the connection failed).',
    labelNames: ['verb', 'resource', 'code'],
    registers,
  });
  observeRequests({
    limiterWait: (seconds) => limiterWait.observe(seconds),
    answered: (verb, resource, code, seconds) => {
      latency.observe({ verb }, seconds);
      requests.inc({ verb, resource, code: String(code) });
    },
  });
}
