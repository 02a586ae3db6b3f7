// The --metrics-bind-address and --health-probe-bind-address flags that `softtenant operator`
// and `softtenant agent` share, and starting the two endpoints they name.
import type { Registry } from 'prom-client';
import type { Probes } from '../health/probes.js';
import { metricsRoutes } from '../metrics/registry.js';
import { parseBindAddress, type BindAddress } from '../util/bind-address.js';
import { serveEndpoints, type RunningEndpoint } from '../util/http-endpoint.js';
import type { Logger } from '../util/logger.js';
import { UsageError } from './args.js';
import { errorMessage } from '../util/errors.js';

export const ENDPOINT_FLAGS = ['metrics-bind-address', 'health-probe-bind-address'] as const;

export const ENDPOINT_FLAGS_HELP = `  --metrics-bind-address ADDR       serve Prometheus /metrics on ADDR, e.g. :8080 or 127.0.0.1:0
                                    (port 0: any free port, logged); 0 turns it off (default 0)
  --health-probe-bind-address ADDR  serve /healthz and /readyz on ADDR (same forms; default 0)
`;

export interface EndpointAddresses {
  metrics: BindAddress | 'disabled';
  health: BindAddress | 'disabled';
}

/** Off unless asked for: several processes on one machine (tests, the demo) must not clash. */
export function endpointAddresses(flag: (name: string) => string | undefined): EndpointAddresses {
  const parse = (name: string): BindAddress | 'disabled' => {
    try {
      return parseBindAddress(flag(name) ?? '0');
    } catch (err) {
      throw new UsageError(`--${name}: ${errorMessage(err)}`);
    }
  };
  return { metrics: parse('metrics-bind-address'), health: parse('health-probe-bind-address') };
}

export interface RunningEndpoints {
  close(): Promise<void>;
}

export async function startEndpoints(
  addresses: EndpointAddresses,
  registry: Registry,
  probes: Probes,
  log: Logger,
): Promise<RunningEndpoints> {
  const running: RunningEndpoint[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(running.map((r) => r.close()));
  };
  try {
    if (addresses.metrics !== 'disabled') {
      running.push(await serveEndpoints('metrics', addresses.metrics, metricsRoutes(registry), log));
    }
    if (addresses.health !== 'disabled') {
      running.push(await serveEndpoints('health', addresses.health, probes.routes(), log));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}
