// Whether the API server serves a resource, from API discovery: lets the operator start (and
// say what is missing) when an optional CRD is not installed, instead of failing a watch.
import type { KubeAccess } from './config.js';
import { ApiError, requestJson } from './raw-request.js';

interface ResourceList {
  resources?: { name: string }[];
}

export async function resourceServed(
  kc: KubeAccess,
  group: string,
  version: string,
  plural: string,
): Promise<boolean> {
  const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  try {
    const list = await requestJson<ResourceList>(kc, 'GET', path);
    return (list.resources ?? []).some((r) => r.name === plural);
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 404) return false;
    throw err;
  }
}
