// Starts and stops the softtenant processes of the demo and the end-to-end test (the operator
// and one agent per node) as child processes, with their logs in files.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const cli = join(repoRoot, 'dist/operator/cli/main.js');

export interface Managed {
  name: string;
  child: ChildProcess;
  log: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `softtenant ARGS` (or, with `script`, another entry point under dist/). */
export function startSofttenant(
  name: string,
  args: string[],
  logDir: string,
  env: NodeJS.ProcessEnv = process.env,
  script: string = cli,
): Managed {
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, `${name}.log`);
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    name,
    child,
    log,
    async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
