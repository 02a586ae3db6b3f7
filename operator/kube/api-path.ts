// Which resource an API path names, for metrics: /api/v1/namespaces/a/pods/b -> "pods",
// /apis/tenancy.softtenant.io/v1alpha1/softtenants/t/status -> "softtenants/status",
// /api/v1/namespaces/a -> "namespaces". A path that names no resource of a group version (/api,
// /apis/g/v) is "discovery"; other paths (/openapi/v3, /version) are named by their first
// segment, so a metric's label set stays small and bounded.

/** Subresources of a Namespace: /api/v1/namespaces/{name}/{one of these} is not a namespaced path. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function resourceOfPath(path: string): string {
  const segments = path.split('?')[0].split('/').filter(Boolean);
  let rest: string[];
  if (segments[0] === 'api') rest = segments.slice(2);
  else if (segments[0] === 'apis') rest = segments.slice(3);
  else return segments[0] ?? 'discovery';
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2])) {
    rest = rest.slice(2);
  }
  const [resource, , subresource] = rest;
  if (!resource) return 'discovery';
  return subresource ? `${resource}/${subresource}` : resource;
}
