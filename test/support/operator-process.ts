// Runs the real operator (`node dist/operator/cli/main.js operator`) as a child process against
// the test control plane, keeps its JSON log lines, and stops it with SIGTERM. Children still
// running when the test process exits are killed, so a failed test never leaves one behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './controlplane.js';

export interface LogLine {
  message?: string;
  level?: string;
  component?: string;
  tenant?: string;
  [field: string]: unknown;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class OperatorProcess {
  readonly lines: LogLine[] = [];
  /** Lines that were not JSON (a crash's stack trace, say). */
  readonly rawLines: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private buffer = '';

  constructor(
    private readonly args: string[] = [],
    private readonly env: Record<string, string> = {},
    /** Another subcommand (e.g. `agent`) runs the same way. */
    private readonly subcommand = 'operator',
  ) {}

  start(): void {
    if (this.child) throw new Error('operator already started');
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'dist/operator/cli/main.js'), this.subcommand, ...this.args],
      {
        env: { ...process.env, ...this.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    running.add(child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => this.take(chunk));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        running.delete(child);
        resolve(code);
      });
    });
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.rawLines.push(line);
      }
    }
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Index into `lines`, to look only at what comes after. */
  mark(): number {
    return this.lines.length;
  }

  /** `api write` lines (every write the operator sent) since a mark. */
  writesSince(mark = 0): LogLine[] {
    return this.lines.slice(mark).filter((l) => l.message === 'api write');
  }

  countSince(message: string, mark = 0): number {
    return this.lines.slice(mark).filter((l) => l.message === message).length;
  }

  /** SIGTERM, then the exit code (SIGKILL after `graceMs`; null means it had to be killed). */
  async stop(graceMs = 15_000): Promise<number | null> {
    const child = this.child;
    if (!child || !this.exited) return null;
    if (this.isRunning) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      await this.exited;
      return null;
    }
    return outcome;
  }

  /** Sends a signal (e.g. SIGKILL, to test what happens when the process dies). */
  signal(signal: NodeJS.Signals): void {
    if (this.isRunning) this.child?.kill(signal);
  }

  /** The exit code once it exits by itself (null if killed by a signal), or 'timeout'. */
  async waitForExit(timeoutMs: number): Promise<number | null | 'timeout'> {
    if (!this.exited) throw new Error('not started');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return outcome;
  }

  /** The last lines, for a failing test's output. */
  tail(n = 40): string {
    const json = this.lines.slice(-n).map((l) => JSON.stringify(l));
    return [...json, ...this.rawLines.slice(-10)].join('\n');
  }
}
