// The lab as an object: build it from a spec, probe it, hold flows open, run commands in a
// node's netns, tear it down. Used by the dataplane tests (through test/support/lab.ts) and by
// the lab CLI (hack/lab.ts).
import { readFileSync } from 'node:fs';
import type { Runner } from '../../operator/dataplane/runner.js';
import { netnsRunner } from '../../operator/dataplane/runner.js';
import { buildLab, newLabId, teardownLab } from './build.js';
import { hostRequest } from './control.js';
import type { LabPlan } from './plan.js';
import { labStateRoot, planLab } from './plan.js';
import type { ProbeCell, ProbeOptions, ProbeResult } from './probe.js';
import { hostByName, probeCells, targetAddress } from './probe.js';
import type { LabProtocol, ProbeOutcome } from './protocol.js';
import type { LabSpec } from './spec.js';

export interface LabFlow {
  id: string;
  from: string;
  to: string;
  port: number;
  protocol: LabProtocol;
  /** The source port, to find the flow's conntrack entry. */
  localPort: number;
  /** One request/reply exchange on the open flow; `pad` bytes make the request and reply large. */
  check(timeoutMs?: number, pad?: number): Promise<ProbeOutcome>;
  close(): Promise<void>;
}

let flowCounter = 0;

export class Lab {
  private constructor(readonly plan: LabPlan) {}

  /** Builds a lab owned by this process (its hosts exit when the process does). */
  static async up(spec: LabSpec, options: { owner?: number | 'cli' } = {}): Promise<Lab> {
    const owner = options.owner ?? process.pid;
    const plan = planLab(spec, newLabId(owner));
    await buildLab(plan, owner === 'cli' ? {} : { parentPid: process.pid });
    return new Lab(plan);
  }

  /** A lab built earlier (by the CLI), found by its id. */
  static attach(id: string): Lab {
    return new Lab(JSON.parse(readFileSync(`${labStateRoot}/${id}/lab.json`, 'utf8')) as LabPlan);
  }

  get id(): string {
    return this.plan.id;
  }

  hostNames(kind?: 'pod' | 'external' | 'node'): string[] {
    return this.plan.hosts.filter((h) => !kind || h.kind === kind).map((h) => h.name);
  }

  /** A host's address of a family (default IPv4). */
  ipOf(host: string, family: 4 | 6 = 4): string {
    return targetAddress(hostByName(this.plan, host), family);
  }

  nodeNetns(node: string): string {
    const n = this.plan.nodes.find((x) => x.name === node);
    if (!n) throw new Error(`lab ${this.id} has no node ${node}`);
    return n.netns;
  }

  /** Runs commands inside a node's network namespace (where an agent on that node would run). */
  nodeRunner(node: string): Runner {
    return netnsRunner(this.nodeNetns(node));
  }

  probe(cells: ProbeCell[], options?: ProbeOptions): Promise<ProbeResult[]> {
    return probeCells(this.plan, cells, options);
  }

  /** Opens a long-lived TCP connection or UDP flow and does a first exchange on it. */
  async openFlow(
    from: string,
    to: string,
    port: number,
    protocol: LabProtocol,
    timeoutMs = 2000,
    family: 4 | 6 = 4,
  ): Promise<LabFlow> {
    const src = hostByName(this.plan, from);
    const dst = hostByName(this.plan, to);
    const id = `f${++flowCounter}`;
    const reply = await hostRequest(
      src.socket,
      { op: 'flow-open', flow: id, target: { ip: targetAddress(dst, family), port, protocol }, timeoutMs },
      timeoutMs + 5000,
    );
    const first = reply.results?.[0];
    if (first?.outcome !== 'ok' || first.localPort === undefined) {
      throw new Error(
        `flow ${from} -> ${to}:${port}/${protocol} did not open: ${first?.outcome ?? 'no reply'}`,
      );
    }
    return {
      id,
      from,
      to,
      port,
      protocol,
      localPort: first.localPort,
      check: async (checkTimeoutMs = 1000, pad?: number): Promise<ProbeOutcome> => {
        const r = await hostRequest(
          src.socket,
          { op: 'flow-check', flow: id, timeoutMs: checkTimeoutMs, ...(pad ? { pad } : {}) },
          checkTimeoutMs + 5000,
        );
        return r.results?.[0] ?? { outcome: 'error', ms: 0 };
      },
      close: async (): Promise<void> => {
        await hostRequest(src.socket, { op: 'flow-close', flow: id }, 5000);
      },
    };
  }

  down(): Promise<void> {
    return teardownLab(this.id);
  }
}
