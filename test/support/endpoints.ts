// Reaching the operational endpoints of a process under test: the address it logged, plain
// HTTP GETs, and the Prometheus text format read back into numbers.
import http from 'node:http';
import type { OperatorProcess } from './operator-process.js';

/** The address a process logged for its `metrics` or `health` endpoint (it binds port 0). */
export function endpointAddress(proc: OperatorProcess, endpoint: 'metrics' | 'health'): string | undefined {
  const line = proc.lines.find((l) => l.message === 'serving endpoint' && l.endpoint === endpoint);
  return typeof line?.address === 'string' ? line.address : undefined;
}

export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

export interface Scrape {
  /** Sample value by series, written as in the exposition: `name{label="v",...}` (labels in order). */
  samples: Map<string, number>;
  /** HELP text by metric family name. */
  help: Map<string, string>;
  types: Map<string, string>;
}

export function parseExposition(text: string): Scrape {
  const samples = new Map<string, number>();
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const space = rest.indexOf(' ');
      help.set(rest.slice(0, space), rest.slice(space + 1));
    } else if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      types.set(name, type);
    } else if (line.trim() !== '' && !line.startsWith('#')) {
      const space = line.lastIndexOf(' ');
      samples.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
  }
  return { samples, help, types };
}

/** GET /metrics of a process that logged its metrics address. */
export async function scrape(proc: OperatorProcess): Promise<Scrape> {
  const address = endpointAddress(proc, 'metrics');
  if (!address) throw new Error('the process has not logged its metrics address yet');
  const res = await httpGet(`http://${address}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.body}`);
  return parseExposition(res.body);
}

/** One sample's value; throws when the series is missing, so a test says which. */
export function sample(s: Scrape, series: string): number {
  const value = s.samples.get(series);
  if (value === undefined) throw new Error(`no series ${series} in the scrape`);
  return value;
}

/** GET a probe path of a process that logged its health address. */
export async function probe(proc: OperatorProcess, path: '/healthz' | '/readyz'): Promise<number> {
  const address = endpointAddress(proc, 'health');
  if (!address) throw new Error('the process has not logged its health address yet');
  return (await httpGet(`http://${address}${path}`)).status;
}
