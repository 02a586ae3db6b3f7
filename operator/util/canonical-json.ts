// A JSON value in one spelling: object keys sorted at every depth, undefined members dropped, so
// that equal values compare (and print) equal whatever order their keys were built in.

export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeysDeep(v);
  }
  return out;
}

/** The canonical JSON text of a value, for equality checks. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeysDeep(value) ?? null);
}
