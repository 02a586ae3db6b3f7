// A throwaway containerd for the image tests: its own root, state and socket under a temporary
// directory, so it shares nothing with a containerd the machine may run, and teardown removes
// the process, every mount under that directory and the directory itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCollect, type RunOptions, type RunResult } from '../../operator/dataplane/runner.js';

export class ScratchContainerd {
  private constructor(
    readonly dir: string,
    private readonly proc: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  get address(): string {
    return join(this.dir, 'containerd.sock');
  }

  static async start(): Promise<ScratchContainerd> {
    const dir = await mkdtemp(join(tmpdir(), 'softtenant-image-test-'));
    // No CRI plugin: nothing here needs a kubelet's API, only images, snapshots and tasks.
    const config = [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${dir}/containerd.sock"`,
      '[ttrpc]',
      `  address = "${dir}/containerd.sock.ttrpc"`,
      '[debug]',
      `  address = "${dir}/debug.sock"`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'config.toml'), config);
    const proc = spawn('containerd', ['--config', join(dir, 'config.toml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const log: Buffer[] = [];
    proc.stderr?.on('data', (b: Buffer) => log.push(b));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const c = new ScratchContainerd(dir, proc, exited);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) {
        await c.stop();
        throw new Error(`containerd exited at start:\n${Buffer.concat(log).toString('utf8').slice(-2000)}`);
      }
      if ((await c.ctr(['version'])).code === 0) return c;
      if (Date.now() > deadline) {
        await c.stop();
        throw new Error('containerd did not answer on its socket within 30 s');
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Runs ctr against this containerd, in namespace k8s.io (where a kubelet's images live). */
  ctr(args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return spawnCollect(['ctr', '--address', this.address, '--namespace', 'k8s.io', ...args], options);
  }

  /** Stops containerd and removes everything it made, also after a failed test. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    // Snapshot mounts (ctr images mount) and the shim's leftovers, deepest first.
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((p) => p === this.dir || p.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await spawnCollect(['umount', '-l', m]);
    await rm(this.dir, { recursive: true, force: true });
  }
}
