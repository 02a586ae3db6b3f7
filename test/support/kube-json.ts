// Test-side access to the API server through kubectl (independent of the operator's own client
// code): objects as JSON in and out.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ObjectMeta } from '../../operator/api/networkpolicy.js';
import { kubectl, repoRoot } from './controlplane.js';

export const SOFTTENANT_CRD = 'softtenants.tenancy.softtenant.io';
export const SOFTTENANT_CRD_FILE = join(repoRoot, 'crds/tenancy.softtenant.io_softtenants.yaml');

/** An object's metadata as the API server returns it (the operator's own type of it). */
export type Meta = ObjectMeta;

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

/** kubectl that may fail: exit code and output as data. */
export function tryKubectl(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const res = spawnSync('kubectl', args, { encoding: 'utf8', input, env: process.env });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** One object, or undefined when it does not exist. */
export function getObject(resource: string, name: string, namespace?: string): Obj | undefined {
  const args = ['get', resource, name, '-o', 'json', ...(namespace ? ['-n', namespace] : [])];
  const res = tryKubectl(args);
  if (res.code !== 0) {
    if (/NotFound|not found/.test(res.stderr)) return undefined;
    throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  }
  return JSON.parse(res.stdout) as Obj;
}

export function listObjects(
  resource: string,
  options: { namespace?: string; selector?: string } = {},
): Obj[] {
  const args = ['get', resource, '-o', 'json'];
  args.push(...(options.namespace ? ['-n', options.namespace] : ['--all-namespaces']));
  if (options.selector) args.push('-l', options.selector);
  return (JSON.parse(kubectl(args)) as { items: Obj[] }).items;
}

export function applyObjects(objects: Obj[]): void {
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

export function createNamespace(name: string, labels: Record<string, string> = {}): void {
  applyObjects([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }]);
}

/** Deletes without waiting (the controller manager finishes namespace deletion). */
export function deleteObjects(resource: string, names: string[], namespace?: string): void {
  if (names.length === 0) return;
  kubectl([
    'delete',
    resource,
    ...names,
    '--ignore-not-found',
    '--wait=false',
    ...(namespace ? ['-n', namespace] : []),
  ]);
}

export function mergePatch(resource: string, name: string, patch: unknown, namespace?: string): void {
  kubectl([
    'patch',
    resource,
    name,
    '--type',
    'merge',
    '-p',
    JSON.stringify(patch),
    ...(namespace ? ['-n', namespace] : []),
  ]);
}

/** Installs the SoftTenant CRD from crds/ and waits until it is served; true if it was not there before. */
export function installSoftTenantCrd(): boolean {
  const existed = tryKubectl(['get', 'crd', SOFTTENANT_CRD]).code === 0;
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', SOFTTENANT_CRD_FILE]);
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${SOFTTENANT_CRD}`]);
  return !existed;
}

/**
 * After the operator under test has stopped: drop the operator's finalizer from any SoftTenant
 * still carrying it (ours or another test file's), so nothing stays stuck in deletion.
 */
export function releaseFinalizers(finalizer: string): void {
  const tenants = tryKubectl(['get', 'softtenants', '-o', 'json']);
  if (tenants.code !== 0) return;
  for (const t of (JSON.parse(tenants.stdout) as { items: Obj[] }).items) {
    const finalizers = t.metadata.finalizers ?? [];
    if (!finalizers.includes(finalizer)) continue;
    const rest = finalizers.filter((f) => f !== finalizer);
    tryKubectl([
      'patch',
      'softtenant',
      t.metadata.name,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ metadata: { finalizers: rest } }),
    ]);
  }
}

export interface EventView {
  type: string;
  reason: string;
  note: string;
  reportingController: string;
  regarding: { kind?: string; name?: string; uid?: string };
}

/**
 * events.k8s.io/v1 Events about one SoftTenant (they live in `default`, being cluster-scoped);
 * with a UID, only those about that incarnation of the name.
 */
export function tenantEvents(name: string, uid?: string): EventView[] {
  const all = JSON.parse(kubectl(['get', 'events.v1.events.k8s.io', '-n', 'default', '-o', 'json'])) as {
    items: EventView[];
  };
  return all.items.filter(
    (e) =>
      e.regarding?.kind === 'SoftTenant' &&
      e.regarding?.name === name &&
      (uid === undefined || e.regarding.uid === uid),
  );
}

export function jsonPatch(resource: string, name: string, ops: unknown[], namespace?: string): void {
  kubectl([
    'patch',
    resource,
    name,
    '--type',
    'json',
    '-p',
    JSON.stringify(ops),
    ...(namespace ? ['-n', namespace] : []),
  ]);
}

/** `kubectl label --overwrite` with changes like `team=a` or `team-`. */
export function label(resource: string, name: string, changes: string[]): void {
  kubectl(['label', resource, name, ...changes, '--overwrite']);
}

/** `kubectl delete` that tolerates absence; used in cleanup. */
export function kubectlDelete(args: string[]): void {
  tryKubectl(['delete', ...args, '--ignore-not-found', '--wait=false']);
}
