// The image `make image` built, taken as a node takes it: imported into a containerd with
// `ctr -n k8s.io images import`, then run by the runtime the way the manifests in config/ run
// it. The operator's way: image user, read-only root filesystem. The agent's way: uid 0 with
// only NET_ADMIN and NET_RAW in a network namespace of its own, where the image's iptables
// (both backends), ipset and conntrack must work and `softtenant agent --cleanup` must find and
// remove what they made. Nothing touches the machine's own firewall.
import { expect } from 'chai';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnCollect, type RunResult } from '../../operator/dataplane/runner.js';
import { ScratchContainerd } from './containerd.js';

const image = process.env.IMAGE ?? 'localhost/softtenant:dev';
const archive = resolve(process.env.IMAGE_ARCHIVE ?? '.tmp/image/softtenant.tar');

interface ImageConfig {
  config?: { Entrypoint?: string[]; Cmd?: string[]; User?: string; Env?: string[]; WorkingDir?: string };
}

async function tarEntry(path: string): Promise<string> {
  const r = await spawnCollect(['tar', '-xOf', archive, path]);
  if (r.code !== 0) throw new Error(`cannot read ${path} from ${archive}: ${r.stderr}`);
  return r.stdout;
}

function ok(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

describe(`image ${image} (${archive})`, function () {
  let containerd: ScratchContainerd | undefined;
  let config: ImageConfig;

  before(async function () {
    if (process.getuid?.() !== 0) throw new Error('image tests need root (containerd, runc)');
    const manifest = JSON.parse(
      await tarEntry('manifest.json').catch((e: Error) => {
        throw new Error(`${e.message}\n(run make image first)`);
      }),
    ) as { Config: string; RepoTags?: string[] }[];
    expect(manifest, 'manifest.json of the docker archive').to.have.length(1);
    expect(manifest[0]?.RepoTags, 'image names in the archive').to.deep.equal([image]);
    config = JSON.parse(await tarEntry(manifest[0]?.Config ?? '')) as ImageConfig;
    containerd = await ScratchContainerd.start();
    // What a node does with the archive; every test below runs what this imported.
    ok(await containerd.ctr(['images', 'import', archive], { timeoutMs: 120_000 }), 'ctr images import');
  });

  after(async function () {
    await containerd?.stop();
  });

  it('has the softtenant CLI as entrypoint and a numeric non-root user (for runAsNonRoot)', function () {
    expect(config.config?.Entrypoint).to.deep.equal(['softtenant']);
    const user = config.config?.User ?? '';
    expect(user).to.match(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).to.not.equal(0);
  });

  it('is accepted by ctr -n k8s.io images import under its name', async function () {
    const names = ok(await containerd!.ctr(['images', 'ls', '-q']), 'ctr images ls').stdout.split('\n');
    expect(names).to.include(image);
  });

  it('runs its entrypoint as the operator pod does: image user, read-only root filesystem', async function () {
    // No command: the image's Entrypoint and Cmd (`softtenant --help`).
    const help = ok(
      await containerd!.ctr(['run', '--rm', '--read-only', image, `st-help-${process.pid}`]),
      'help',
    );
    expect(help.stdout).to.match(/^usage: softtenant <command>/);
    // Each subcommand loads its modules: the production node_modules must hold all they import.
    for (const [sub, flag] of [
      ['operator', '--leader-elect'],
      ['agent', '--cleanup'],
    ] as const) {
      const r = await containerd!.ctr([
        'run',
        '--rm',
        '--read-only',
        image,
        `st-${sub}-${process.pid}`,
        'softtenant',
        sub,
        '--help',
      ]);
      expect(ok(r, `softtenant ${sub} --help`).stdout).to.include(flag);
    }
    const id = ok(
      await containerd!.ctr(['run', '--rm', '--read-only', image, `st-id-${process.pid}`, 'id', '-u']),
      'id -u',
    );
    expect(id.stdout.trim()).to.equal((config.config?.User ?? '').split(':')[0]);
  });

  it("runs the agent's tools as the agent pod does: uid 0, only NET_ADMIN and NET_RAW", async function () {
    const c = containerd!;
    const rootfs = join(c.dir, 'rootfs');
    await mkdir(rootfs);
    ok(await c.ctr(['images', 'mount', '--rw', image, rootfs], { timeoutMs: 120_000 }), 'ctr images mount');
    try {
      const bundle = join(c.dir, 'bundle');
      await mkdir(bundle);
      ok(await spawnCollect(['runc', 'spec', '--bundle', bundle]), 'runc spec');
      const lock = join(c.dir, 'xtables.lock');
      await writeFile(lock, '');
      const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as OciSpec;
      const caps = ['CAP_NET_ADMIN', 'CAP_NET_RAW'];
      spec.root = { path: rootfs, readonly: true };
      spec.process = {
        ...spec.process,
        terminal: false,
        user: { uid: 0, gid: 0 },
        cwd: config.config?.WorkingDir ?? '/',
        env: [...(config.config?.Env ?? []), 'NODE_NAME=image-test'],
        args: ['sh', '-c', agentScript],
        noNewPrivileges: true,
        capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      };
      // As config/agent/daemonset.yaml mounts them; the namespaces are runc's defaults, a new
      // network namespace among them, so every rule below lives and dies with the container.
      spec.mounts = [
        ...spec.mounts,
        { destination: '/run/xtables.lock', type: 'bind', source: lock, options: ['rbind', 'rw'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=65536k'] },
      ];
      expect(spec.linux.namespaces.map((n) => n.type)).to.include('network');
      await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
      const r = await spawnCollect([
        'runc',
        '--root',
        join(c.dir, 'runc'),
        'run',
        '--bundle',
        bundle,
        `softtenant-image-test-${process.pid}`,
      ]);
      const out = ok(r, 'the agent tools in the image').stdout;
      expect(out).to.include('seeded legacy').and.include('seeded nft').and.include('conntrack listed');
      expect(out).to.include('removed everything the agent installed');
      expect(out.trim().split('\n').at(-1)).to.equal('nothing left');
    } finally {
      await c.ctr(['images', 'unmount', '--rm', rootfs]);
    }
  });
});

// Runs inside the container: make agent-owned state with each tool, then have the agent find
// and remove it, then check that nothing of it is left.
const agentScript = String.raw`set -eu
for b in legacy nft; do
  printf '*filter\n:STN-IMAGE-TEST - [0:0]\n-A FORWARD -m comment --comment "softtenant: image test" -j STN-IMAGE-TEST\n-A STN-IMAGE-TEST -m set --match-set stn-image-test src -j RETURN\nCOMMIT\n' >/tmp/rules
  [ "$b" = legacy ] && { ipset create stn-image-test hash:ip; ipset add stn-image-test 192.0.2.1; }
  iptables-$b-restore --noflush -w 5 </tmp/rules
  iptables-$b-save -t filter | grep -q -- '-A STN-IMAGE-TEST' && echo "seeded $b"
done
conntrack -L -f ipv4 >/dev/null && echo 'conntrack listed'
softtenant agent --cleanup 2>&1
for b in legacy nft; do
  if iptables-$b-save -t filter | grep -q STN-; then echo "left in $b"; exit 1; fi
done
if ipset list -n | grep -q stn-; then echo 'set left'; exit 1; fi
echo 'nothing left'
`;

interface OciSpec {
  root: { path: string; readonly: boolean };
  process: Record<string, unknown>;
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: { namespaces: { type: string }[] };
}
