// Timestamps in the two RFC 3339 forms the API server reads and writes.

/** metav1.Time: RFC 3339, whole seconds, UTC. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * metav1.MicroTime (Lease and events.k8s.io times): RFC 3339 with exactly six fractional
 * digits; Date.toISOString()'s three are refused.
 */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
