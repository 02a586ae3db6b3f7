// Liveness (/healthz) and readiness (/readyz) as named checks, answered the way the Kubernetes
// components answer theirs: 200 "ok" when every check passes, 500 listing the failed ones
// otherwise; `?verbose` lists every check. That the server answers at all shows the event loop
// is responsive: a blocked loop makes the kubelet's probe time out.
import type { EndpointHandler, EndpointResponse } from '../util/http-endpoint.js';
import { errorMessage } from '../util/errors.js';

/** Undefined when the check passes; otherwise why it does not, for a person. */
export type Check = () => string | undefined;

export type ProbeKind = 'healthz' | 'readyz';

export interface CheckResult {
  name: string;
  problem?: string;
}

export class Probes {
  private readonly checks: Record<ProbeKind, Map<string, Check>> = {
    healthz: new Map([['ping', () => undefined]]),
    readyz: new Map([['ping', () => undefined]]),
  };

  add(kind: ProbeKind, name: string, check: Check): this {
    this.checks[kind].set(name, check);
    return this;
  }

  evaluate(kind: ProbeKind): CheckResult[] {
    return [...this.checks[kind]].map(([name, check]) => {
      let problem: string | undefined;
      try {
        problem = check();
      } catch (err) {
        problem = errorMessage(err);
      }
      return problem === undefined ? { name } : { name, problem };
    });
  }

  routes(): Record<string, EndpointHandler> {
    return {
      '/healthz': (q) => probeResponse('healthz', this.evaluate('healthz'), q.has('verbose')),
      '/readyz': (q) => probeResponse('readyz', this.evaluate('readyz'), q.has('verbose')),
    };
  }
}

export function probeResponse(kind: ProbeKind, results: CheckResult[], verbose: boolean): EndpointResponse {
  const failed = results.filter((r) => r.problem !== undefined);
  const ok = failed.length === 0;
  let body: string;
  if (ok && !verbose) {
    body = 'ok';
  } else {
    const shown = verbose ? results : failed;
    const lines = shown.map((r) =>
      r.problem === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.problem}`,
    );
    body = `${lines.join('\n')}\n${kind} check ${ok ? 'passed' : 'failed'}`;
  }
  return { status: ok ? 200 : 500, contentType: 'text/plain; charset=utf-8', body: `${body}\n` };
}
