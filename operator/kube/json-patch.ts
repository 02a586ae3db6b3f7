// RFC 6902 JSON patch operations and RFC 6901 pointer escaping, for the guarded writes
// (label and finalizer changes that must not clobber concurrent edits).

export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** Escapes one path segment: `tenancy.softtenant.io/tenant` -> `tenancy.softtenant.io~1tenant`. */
export function pointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${pointerSegment(String(s))}`).join('');
}
