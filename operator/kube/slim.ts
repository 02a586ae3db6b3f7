// What both binaries' watch caches drop from every object they keep: managedFields and the
// client-side last-applied annotation. Together they are most of a small object's size (a
// NetworkPolicy applied by kubectl carries its spec twice more in them), and nothing here reads
// them. Pods are trimmed further by agent/pod-trim.ts.
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Meta = Record<string, unknown> & { annotations?: Record<string, string> };

/**
 * A new metadata object without managedFields and last-applied. A new object rather than keys
 * deleted in place: V8 turns an object that loses properties into a larger dictionary.
 */
function slimMeta(meta: Meta | undefined): Meta {
  const out: Meta = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (key === 'managedFields' || key === 'annotations') continue;
    out[key] = value;
  }
  const annotations = meta?.annotations;
  if (annotations && Object.keys(annotations).some((k) => k !== LAST_APPLIED)) {
    const kept: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotations)) if (k !== LAST_APPLIED) kept[k] = v;
    out.annotations = kept;
  }
  return out;
}

/** Drops managedFields and last-applied from `obj`'s metadata; returns the same object. */
export function slim<T extends { metadata?: unknown }>(obj: T): T {
  const holder = obj as { metadata?: Meta };
  if (holder.metadata && 'managedFields' in holder.metadata) holder.metadata = slimMeta(holder.metadata);
  else if (holder.metadata?.annotations?.[LAST_APPLIED] !== undefined)
    holder.metadata = slimMeta(holder.metadata);
  return obj;
}
