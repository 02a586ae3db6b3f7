// Shared by the install-* and admission-* integration tests: installs config/default into the
// test's real control plane with `kubectl apply -k`, waits until the CRDs and admission policies
// are live, and removes everything it added afterwards (CRDs that were there before are kept,
// so other test files in the same run are not disturbed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { kubectl, repoRoot } from '../support/controlplane.js';

export const SYSTEM_NAMESPACE = 'softtenant-system';
export const OPERATOR_SA = `system:serviceaccount:${SYSTEM_NAMESPACE}:softtenant-operator`;
export const AGENT_SA = `system:serviceaccount:${SYSTEM_NAMESPACE}:softtenant-agent`;
export const TENANT_LABEL = 'tenancy.softtenant.io/tenant';
const CRD_NAMES = ['softtenants.tenancy.softtenant.io', 'nodeenforcements.tenancy.softtenant.io'];

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl that may fail: the tests assert on refusals, so the exit code and stderr are data. */
export function tryKubectl(args: string[], input?: string): RunResult {
  const res = spawnSync('kubectl', args, { encoding: 'utf8', input, env: process.env });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

export function render(dir: string): KubeObject[] {
  const out = kubectl(['kustomize', join(repoRoot, dir)]);
  return yaml.loadAll(out).filter((d): d is KubeObject => d !== null && typeof d === 'object');
}

export function toManifest(objects: KubeObject[]): string {
  return objects.map((o) => `---\n${yaml.dump(o)}`).join('');
}

export async function poll<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface Installation {
  /** Deletes what install() created; safe to call twice. */
  uninstall(): void;
}

/**
 * `kubectl apply -k config/default` (server-side apply unless `clientSide`, the two ways
 * docs/install.md offers), then waits for the CRDs to be Established and both admission policies
 * to be enforcing (a policy takes a moment to become active).
 */
export async function install(opts: { clientSide?: boolean } = {}): Promise<Installation> {
  const rendered = render('config/default');
  const key = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  // What a test file earlier in the run left behind (a CRD, say) is not ours to delete.
  const existing = JSON.parse(
    kubectl(['get', '--ignore-not-found', '-o', 'json', '-f', '-'], toManifest(rendered)) || '{"items":[]}',
  ) as { items?: KubeObject[] } & Partial<KubeObject>;
  const preexisting = new Set((existing.items ?? (existing.kind ? [existing as KubeObject] : [])).map(key));
  let removed = false;
  const installation: Installation = {
    uninstall(): void {
      if (removed) return;
      removed = true;
      const ours = rendered.filter((o) => !preexisting.has(key(o)));
      const res = tryKubectl(
        ['delete', '--ignore-not-found', '--wait', '--timeout=120s', '-f', '-'],
        toManifest(ours),
      );
      if (res.code !== 0) throw new Error(`uninstalling config/default failed: ${res.stderr}`);
    },
  };
  try {
    const mode = opts.clientSide ? [] : ['--server-side', '--force-conflicts'];
    kubectl(['apply', ...mode, '-k', join(repoRoot, 'config/default')]);
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...CRD_NAMES.map((n) => `crd/${n}`)]);
    await waitForAdmissionPolicies();
  } catch (err) {
    installation.uninstall();
    throw err;
  }
  return installation;
}

/** Both policies refuse a server-side dry run of what they forbid once they are active. */
async function waitForAdmissionPolicies(): Promise<void> {
  await poll('the tenant-label admission policy to be active', 30_000, () => {
    const res = tryKubectl(['label', 'namespace', 'default', `${TENANT_LABEL}=probe`, '--dry-run=server']);
    return res.code !== 0 && res.stderr.includes('softtenant-tenant-label') ? true : undefined;
  });
  const probe =
    'apiVersion: tenancy.softtenant.io/v1alpha1\nkind: NodeEnforcement\nmetadata: {name: probe-other-node}\n';
  await poll('the agent own-node admission policy to be active', 30_000, () => {
    const res = tryKubectl(
      [
        'create',
        '--dry-run=server',
        '-f',
        '-',
        `--as=${AGENT_SA}`,
        '--as-group=system:serviceaccounts',
        '--as-user-extra=authentication.kubernetes.io/node-name=probe-node',
      ],
      probe,
    );
    return res.code !== 0 && res.stderr.includes('softtenant-agent-own-node') ? true : undefined;
  });
}

/** A kubeconfig for the same cluster that authenticates with a bearer token (a ServiceAccount's). */
export class TokenKubeconfigs {
  private readonly dir = mkdtempSync(join(tmpdir(), 'softtenant-tokens-'));
  private count = 0;

  forToken(token: string): string {
    const current = JSON.parse(kubectl(['config', 'view', '--minify', '--raw', '-o', 'json'])) as {
      clusters: { name: string; cluster: Record<string, unknown> }[];
    };
    const cluster = current.clusters[0];
    if (!cluster) throw new Error('current kubeconfig has no cluster');
    const file = join(this.dir, `token-${++this.count}.kubeconfig`);
    writeFileSync(
      file,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [cluster],
        users: [{ name: 'token', user: { token } }],
        contexts: [{ name: 'token', context: { cluster: cluster.name, user: 'token' } }],
        'current-context': 'token',
      }),
      { mode: 0o600 },
    );
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The name of the agent pod the DaemonSet controller created for `node` (no scheduler here). */
export async function agentPodFor(node: string): Promise<string> {
  return poll(`the DaemonSet to create an agent pod for ${node}`, 60_000, () => {
    const pods = JSON.parse(
      kubectl([
        'get',
        'pods',
        '-n',
        SYSTEM_NAMESPACE,
        '-l',
        'app.kubernetes.io/component=agent',
        '-o',
        'json',
      ]),
    ) as { items: KubeObject[] };
    return pods.items.find((p) => JSON.stringify(p.spec).includes(`"${node}"`))?.metadata.name;
  });
}

/**
 * The agent pod of `node`, bound to it as the scheduler would, and a ServiceAccount token bound
 * to that pod: the kind of token the kubelet mounts into the real agent pod, so the API server
 * puts the node's name into the agent's user info. Returns a kubeconfig that uses the token.
 */
export async function agentTokenOnNode(node: string, tokens: TokenKubeconfigs): Promise<string> {
  const pod = await agentPodFor(node);
  kubectl(
    ['create', '--raw', `/api/v1/namespaces/${SYSTEM_NAMESPACE}/pods/${pod}/binding`, '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod },
      target: { kind: 'Node', name: node },
    }),
  );
  const token = kubectl([
    'create',
    'token',
    'softtenant-agent',
    '-n',
    SYSTEM_NAMESPACE,
    '--bound-object-kind=Pod',
    `--bound-object-name=${pod}`,
  ]).trim();
  return tokens.forToken(token);
}
