// What `softtenant expand` prints: the Namespaces with the tenant label the operator would set
// (or remove), the generated NetworkPolicies and ClusterNetworkPolicies, in a stable order, plus warnings for people.
import { TENANT_LABEL } from '../api/softtenant.js';
import { dumpYamlDocument, type KubeObject } from '../util/manifests.js';
import { comparePolicies } from './policies.js';
import type { ExpansionResult } from './types.js';
import { sortKeysDeep } from '../util/canonical-json.js';

export interface OutputDocument {
  object: KubeObject;
  /** Printed as a YAML comment above the document. */
  comment?: string;
}

function namespaceDoc(name: string, tenant: string | null): OutputDocument {
  const object: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { [TENANT_LABEL]: tenant } },
  };
  if (tenant !== null) return { object };
  // null as in a JSON merge patch: the label is deleted.
  return { object, comment: `remove label ${TENANT_LABEL} from namespace ${name}: no tenant holds it` };
}

/**
 * Namespaces first (held ones with their label, then removals merged in by name), then
 * NetworkPolicies, then ClusterNetworkPolicies (cluster-scoped, by name).
 */
export function expansionDocuments(result: ExpansionResult): OutputDocument[] {
  const labels = new Map<string, string | null>();
  for (const t of result.tenants) for (const ns of t.namespaces) labels.set(ns, t.tenant);
  for (const change of result.labelChanges) if (change.tenant === null) labels.set(change.namespace, null);
  const namespaces = [...labels.keys()].sort().map((ns) => namespaceDoc(ns, labels.get(ns) ?? null));
  const policies = result.tenants
    .flatMap((t) => t.policies)
    .sort(comparePolicies)
    .map((p): OutputDocument => ({ object: p as unknown as KubeObject }));
  const clusterPolicies = result.tenants
    .flatMap((t) => t.clusterNetworkPolicies)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
    .map((p): OutputDocument => ({ object: p as unknown as KubeObject }));
  return [...namespaces, ...policies, ...clusterPolicies];
}

export function renderYaml(docs: readonly OutputDocument[]): string {
  return docs
    .map((d) => {
      const body = dumpYamlDocument(d.object);
      return d.comment ? `# ${d.comment}\n${body}` : body;
    })
    .join('---\n');
}

export function renderJson(docs: readonly OutputDocument[]): string {
  const list = { apiVersion: 'v1', kind: 'List', items: docs.map((d) => d.object) };
  return `${JSON.stringify(sortKeysDeep(list), null, 2)}\n`;
}

/** Conflicts and problems, one line each, naming the tenant and the field. */
export function expansionWarnings(result: ExpansionResult): string[] {
  const out: string[] = [];
  for (const t of result.tenants) {
    for (const c of t.conflicts) {
      out.push(
        `SoftTenant ${t.tenant}: namespace ${c.namespace} is claimed by this tenant but held by tenant ${c.owner} (NamespaceConflict)`,
      );
    }
    for (const p of t.problems) out.push(`SoftTenant ${t.tenant}: ${p.field}: ${p.message}`);
  }
  return out;
}

export function expansionSummary(result: ExpansionResult): string {
  const namespaces = result.tenants.reduce((n, t) => n + t.namespaces.length, 0);
  const policies = result.tenants.reduce((n, t) => n + t.policies.length, 0);
  const clusterPolicies = result.tenants.reduce((n, t) => n + t.clusterNetworkPolicies.length, 0);
  const strict = clusterPolicies > 0 ? `${clusterPolicies} ClusterNetworkPolicy(ies), ` : '';
  return `${result.tenants.length} tenant(s), ${namespaces} namespace(s) held, ${policies} NetworkPolicy(ies), ${strict}${result.labelChanges.length} namespace label change(s) against the input`;
}
