// Every command the apply edge (and the netns lab) runs goes through a Runner, so the same
// code programs the current network namespace or a named one (`ip netns exec NAME ...`), and
// every failure carries where it ran, what it ran and what the tool printed on stderr.
import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  /** Text written to the command's stdin (restore files). */
  input?: string;
  /** Kill the command after this long; default 60 s. */
  timeoutMs?: number;
}

export interface Runner {
  /** Where commands run, for messages: "host" or "netns NAME". */
  readonly where: string;
  /** Runs argv; resolves with the exit code (non-zero is not an error here). */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly where: string,
    readonly code: number,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

const defaultTimeoutMs = 60_000;

/** Spawns argv directly (no shell) and collects its output. */
export function spawnCollect(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new Error('spawnCollect: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? defaultTimeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n(killed by ${signal})` : ''),
        code: code ?? 128,
      });
    });
    // A tool that exits before reading all of stdin makes the pipe fail with EPIPE; its exit
    // code and stderr say why, so the write error itself is not the interesting part.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs in the current network namespace. */
export function hostRunner(): Runner {
  return { where: 'host', run: (argv, options) => spawnCollect(argv, options) };
}

/**
 * Runs inside the named network namespace (as an agent placed in a node netns would). Through
 * nsenter, which only switches the network namespace: `ip netns exec` also unshares the mount
 * namespace and remounts /sys, which costs milliseconds per command and nothing here needs.
 */
export function netnsRunner(netns: string): Runner {
  return {
    where: `netns ${netns}`,
    run: (argv, options) => spawnCollect(['nsenter', `--net=/run/netns/${netns}`, '--', ...argv], options),
  };
}

/** Runs argv and returns stdout; a non-zero exit becomes a CommandError naming `what`. */
export async function runChecked(
  runner: Runner,
  argv: readonly string[],
  what: string,
  options: RunOptions = {},
): Promise<string> {
  const r = await runner.run(argv, options);
  if (r.code !== 0) {
    const stderr = r.stderr.trim();
    throw new CommandError(
      `${what} (${runner.where}): ${argv.join(' ')} exited ${r.code}${stderr ? `: ${stderr}` : ''}`,
      argv,
      runner.where,
      r.code,
      stderr,
    );
  }
  return r.stdout;
}
