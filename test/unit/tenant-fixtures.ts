// Builders for the tenant unit tests: SoftTenants and Namespaces as the API server would hold
// them, and the seed's NetworkPolicy (the acceptance case of the expansion).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Namespace, NetworkPolicySpec, ObjectMeta } from '../../operator/api/networkpolicy.js';
import { API_VERSION, KIND, type SoftTenant, type SoftTenantSpec } from '../../operator/api/softtenant.js';
import { parseManifests } from '../../operator/util/manifests.js';

/** The repository root, from dist/test/unit/. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function tenant(name: string, spec: SoftTenantSpec, meta: Partial<ObjectMeta> = {}): SoftTenant {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, ...meta }, spec };
}

export function ns(
  name: string,
  labels: Record<string, string> = {},
  meta: Partial<ObjectMeta> = {},
): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, ...meta },
  };
}

/** The seed's NetworkPolicy (shared/seeds/001_...: role=db in default), read from its fixture. */
export function seedPolicy(): { namespace: string; name: string; spec: NetworkPolicySpec } {
  const [obj] = parseManifests(
    readFileSync(resolve(repoRoot, 'test/golden/expand/input/seed-networkpolicy.yaml'), 'utf8'),
  );
  const o = obj as unknown as { metadata: { name: string; namespace: string }; spec: NetworkPolicySpec };
  return { namespace: o.metadata.namespace, name: o.metadata.name, spec: o.spec };
}

/** Freezes an object graph, so a test fails if the code under test mutates its input. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function readSample(file: string): SoftTenant {
  const [obj] = parseManifests(readFileSync(resolve(repoRoot, 'config/samples', file), 'utf8'));
  return obj as unknown as SoftTenant;
}
