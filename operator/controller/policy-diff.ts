// Decides whether a generated NetworkPolicy needs a write, by comparing only the fields the
// operator owns: spec, its labels and annotations, its ownerReference. Labels or annotations
// that others add are theirs and never cause a write. The API server defaults a few spec fields
// and drops empty lists and maps, so both sides are normalised the same way first; otherwise a
// policy would look changed on every resync and be written forever.
import type { NetworkPolicy, NetworkPolicySpec, ObjectMeta } from '../api/networkpolicy.js';
import { specWithDefaults } from '../api/networkpolicy-defaults.js';
import { canonicalJson } from '../util/canonical-json.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Drops absent, null, empty-list and empty-map members (the API server omits them on output). */
function compact(value: unknown): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => compact(v) ?? {});
    return items.length === 0 ? undefined : items;
  }
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      const v = compact((value as Record<string, unknown>)[key]);
      if (v !== undefined) out[key] = v;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value as Json;
}

function canonical(value: unknown): string {
  return canonicalJson(compact(value));
}

export function specsEqual(desired: NetworkPolicySpec, actual: NetworkPolicySpec): boolean {
  return canonical(specWithDefaults(desired)) === canonical(specWithDefaults(actual));
}

/** Equal once both sides are compacted as the API server stores them (no defaults applied). */
export function storedEqual(desired: unknown, actual: unknown): boolean {
  return canonical(desired) === canonical(actual);
}

function containsAll(
  desired: Record<string, string> | undefined,
  actual: Record<string, string> | undefined,
): boolean {
  return Object.entries(desired ?? {}).every(([k, v]) => actual?.[k] === v);
}

function ownerReferencesPresent(desired: Owned, actual: Owned): boolean {
  const have = (actual.metadata.ownerReferences ?? []).map(canonical);
  return (desired.metadata.ownerReferences ?? []).every((ref) => have.includes(canonical(ref)));
}

/** The metadata of a generated object (a NetworkPolicy, a ClusterNetworkPolicy). */
interface Owned {
  metadata: Pick<ObjectMeta, 'labels' | 'annotations' | 'ownerReferences'>;
}

/** What differs between the desired policy and the live one ([] when no write is needed). */
export function policyDifferences(desired: NetworkPolicy, actual: NetworkPolicy | undefined): string[] {
  if (!actual) return ['missing'];
  const diffs: string[] = [];
  if (!specsEqual(desired.spec, actual.spec)) diffs.push('spec');
  return [...diffs, ...metadataDifferences(desired, actual)];
}

/** The owned metadata that differs: labels, annotations, the ownerReference (others' additions never count). */
export function metadataDifferences(desired: Owned, actual: Owned): string[] {
  const diffs: string[] = [];
  if (!containsAll(desired.metadata.labels, actual.metadata.labels)) diffs.push('labels');
  if (!containsAll(desired.metadata.annotations, actual.metadata.annotations)) diffs.push('annotations');
  if (!ownerReferencesPresent(desired, actual)) diffs.push('ownerReferences');
  return diffs;
}
