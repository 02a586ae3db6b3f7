// Loads the kubeconfig the same way kubectl does: --kubeconfig, else every file of $KUBECONFIG
// merged (the first file to name a cluster, user or context wins; the first current-context
// wins), else ~/.kube/config, else the in-cluster service account.
//
// Why not client-node's KubeConfig: its module imports client-node's generated API (865 files,
// 22 MB of JavaScript) at load, which costs both binaries about 60 MB of RSS that they never use
// (docs/design.md, "Memory"). The credentials a pod or a kubeconfig file names directly
// (service account token, token or token file, client certificate, basic auth, CA, insecure,
// tls-server-name) are read here. Anything that needs a plugin (exec, auth-provider), a proxy or
// impersonation is handed to client-node's KubeConfig, loaded on first use: those setups pay for
// it, nothing else does.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import yaml from 'js-yaml';

/** The API server this process talks to. */
export interface ClusterEndpoint {
  readonly name: string;
  readonly server: string;
  readonly proxyUrl?: string;
}

/**
 * What the clients of this project need from a kubeconfig: where the API server is, and the
 * credentials for one request. client-node's KubeConfig has the same shape (tests may pass one).
 */
export interface KubeAccess {
  getCurrentCluster(): ClusterEndpoint | null;
  /** Sets TLS material and the Authorization header for one request. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** One kubeconfig file as read: its path (relative paths in it are relative to its directory). */
export interface KubeConfigFile {
  path: string;
  text: string;
}

type Named = Record<string, unknown>;

interface ResolvedCluster {
  name: string;
  server: string;
  caFile?: string;
  caData?: string;
  insecure: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

interface ResolvedUser {
  name: string;
  token?: string;
  tokenFile?: string;
  certFile?: string;
  certData?: string;
  keyFile?: string;
  keyData?: string;
  username?: string;
  password?: string;
  /** Set when the user needs something only client-node implements. */
  needsPlugin?: string;
}

/** The current context of merged kubeconfig files, with paths made absolute. */
export interface ResolvedKubeConfig {
  context: string;
  namespace?: string;
  cluster: ResolvedCluster;
  user: ResolvedUser;
}

function asRecord(value: unknown): Named | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Named) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function absolute(path: string | undefined, base: string): string | undefined {
  if (path === undefined) return undefined;
  return isAbsolute(path) ? path : join(dirname(base), path);
}

/** Entries of a named list (clusters, users, contexts), first definition of a name winning. */
function collect(
  files: readonly { path: string; doc: Named }[],
  key: 'clusters' | 'users' | 'contexts',
  inner: 'cluster' | 'user' | 'context',
): Map<string, { body: Named; path: string }> {
  const out = new Map<string, { body: Named; path: string }>();
  for (const { path, doc } of files) {
    const list = doc[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new Error(`${path}: ${key} is not a list`);
    for (const entry of list) {
      const record = asRecord(entry);
      const name = str(record?.name);
      if (!record || !name) throw new Error(`${path}: an entry of ${key} has no name`);
      if (!out.has(name)) out.set(name, { body: asRecord(record[inner]) ?? {}, path });
    }
  }
  return out;
}

/** The current context of `files` (in $KUBECONFIG order), resolved. Pure: no file is read. */
export function resolveKubeConfig(files: readonly KubeConfigFile[], context?: string): ResolvedKubeConfig {
  const docs = files.map(({ path, text }) => {
    let doc: unknown;
    try {
      doc = yaml.load(text);
    } catch (err) {
      throw new Error(`${path}: not YAML: ${(err as Error).message}`, { cause: err });
    }
    return { path, doc: asRecord(doc) ?? {} };
  });
  const current = context ?? docs.map((d) => str(d.doc['current-context'])).find((c) => c !== undefined);
  const where = files.map((f) => f.path).join(delimiter);
  if (!current) throw new Error(`${where}: no current-context`);
  const ctx = collect(docs, 'contexts', 'context').get(current);
  if (!ctx) throw new Error(`${where}: context '${current}' is not defined`);
  const clusterName = str(ctx.body.cluster);
  const userName = str(ctx.body.user);
  const cluster = clusterName ? collect(docs, 'clusters', 'cluster').get(clusterName) : undefined;
  if (!cluster) throw new Error(`${where}: context '${current}' names no defined cluster`);
  const server = str(cluster.body.server);
  if (!server) throw new Error(`${where}: cluster '${clusterName}' has no server`);
  const user = userName ? collect(docs, 'users', 'user').get(userName) : undefined;
  const u = user?.body ?? {};
  const plugin = ['exec', 'auth-provider', 'as', 'as-groups', 'as-uid', 'as-user-extra'].find(
    (k) => u[k] !== undefined && u[k] !== null,
  );
  return {
    context: current,
    namespace: str(ctx.body.namespace),
    cluster: {
      name: clusterName as string,
      server,
      caFile: absolute(str(cluster.body['certificate-authority']), cluster.path),
      caData: str(cluster.body['certificate-authority-data']),
      insecure: cluster.body['insecure-skip-tls-verify'] === true,
      tlsServerName: str(cluster.body['tls-server-name']),
      proxyUrl: str(cluster.body['proxy-url']),
    },
    user: {
      name: userName ?? '',
      token: str(u.token),
      tokenFile: absolute(str(u.tokenFile), user?.path ?? ''),
      certFile: absolute(str(u['client-certificate']), user?.path ?? ''),
      certData: str(u['client-certificate-data']),
      keyFile: absolute(str(u['client-key']), user?.path ?? ''),
      keyData: str(u['client-key-data']),
      username: str(u.username),
      password: str(u.password),
      ...(plugin ? { needsPlugin: plugin } : {}),
    },
  };
}

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT and the mounted token). Pure. */
export function inClusterConfig(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): ResolvedKubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set');
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return {
    context: 'in-cluster',
    cluster: {
      name: 'in-cluster',
      server: `https://${bracketed}:${port}`,
      caFile: join(dir, 'ca.crt'),
      insecure: false,
    },
    user: { name: 'in-cluster', tokenFile: join(dir, 'token') },
  };
}

/**
 * Credential files (CA, client certificate and key, token) are read again when they change: the
 * kubelet rotates a pod's projected token, and cert-manager style tooling rotates certificates.
 * A stat per request is what that costs.
 */
class FileCache {
  private readonly entries = new Map<string, { mtimeMs: number; size: number; data: Buffer }>();

  read(path: string): Buffer {
    const { mtimeMs, size } = statSync(path);
    const known = this.entries.get(path);
    if (known && known.mtimeMs === mtimeMs && known.size === size) return known.data;
    const data = readFileSync(path);
    this.entries.set(path, { mtimeMs, size, data });
    return data;
  }
}

/** A kubeconfig this project reads itself. */
class DirectAccess implements KubeAccess {
  private readonly files = new FileCache();

  constructor(readonly resolved: ResolvedKubeConfig) {}

  getCurrentCluster(): ClusterEndpoint {
    return { name: this.resolved.cluster.name, server: this.resolved.cluster.server };
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    const { cluster, user } = this.resolved;
    const material = (data: string | undefined, file: string | undefined): Buffer | undefined =>
      data !== undefined
        ? Buffer.from(data, 'base64')
        : file !== undefined
          ? this.files.read(file)
          : undefined;
    const ca = material(cluster.caData, cluster.caFile);
    const cert = material(user.certData, user.certFile);
    const key = material(user.keyData, user.keyFile);
    if (ca) opts.ca = ca;
    if (cert) opts.cert = cert;
    if (key) opts.key = key;
    if (cluster.insecure) opts.rejectUnauthorized = false;
    if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
    const headers: Record<string, string | number | string[]> = {
      ...(opts.headers as Record<string, string>),
    };
    const token =
      user.token ?? (user.tokenFile ? this.files.read(user.tokenFile).toString('utf8').trim() : undefined);
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (user.username !== undefined && user.password !== undefined)
      headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    opts.headers = headers;
    return Promise.resolve();
  }
}

/** A kubeconfig that needs client-node (plugins, proxies, impersonation), loaded on first use. */
class DelegatedAccess implements KubeAccess {
  private loaded: Promise<KubeAccess> | undefined;

  constructor(
    private readonly resolved: ResolvedKubeConfig,
    private readonly paths: readonly string[],
  ) {}

  getCurrentCluster(): ClusterEndpoint {
    const { name, server, proxyUrl } = this.resolved.cluster;
    return { name, server, ...(proxyUrl ? { proxyUrl } : {}) };
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    this.loaded ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      // client-node merges $KUBECONFIG's files in the same order as resolveKubeConfig.
      if (this.paths.length === 1) kc.loadFromFile(this.paths[0]);
      else kc.loadFromDefault();
      kc.setCurrentContext(this.resolved.context);
      return kc;
    });
    const kc = await this.loaded;
    await kc.applyToHTTPSOptions(opts);
  }
}

/** `path`, else $KUBECONFIG's files, else ~/.kube/config; [] when none applies. */
function kubeconfigPaths(path: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (path) return [path];
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (listed.length > 0) return listed.filter((p) => existsSync(p));
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

/**
 * The kubeconfig of `path`, else $KUBECONFIG's, else ~/.kube/config's, else the in-cluster one
 * (`serviceAccountDir` is where the pod's token is mounted; tests point it elsewhere).
 */
export function loadKubeConfig(
  path?: string,
  env: NodeJS.ProcessEnv = process.env,
  serviceAccountDir = SERVICE_ACCOUNT_DIR,
): KubeAccess {
  const paths = kubeconfigPaths(path, env);
  if (paths.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST && existsSync(join(serviceAccountDir, 'token')))
      return new DirectAccess(inClusterConfig(env, serviceAccountDir));
    throw new Error('no Kubernetes cluster configured (set KUBECONFIG or run in a cluster)');
  }
  const resolved = resolveKubeConfig(paths.map((p) => ({ path: p, text: readFileSync(p, 'utf8') })));
  if (resolved.user.needsPlugin || resolved.cluster.proxyUrl) return new DelegatedAccess(resolved, paths);
  return new DirectAccess(resolved);
}
