// NetworkPolicy writes, in the wire shape (the JSON exactly as the API server sends it), which
// the controller compares with the pure expansion's output and keeps in its cache.
import type { KubeAccess } from './config.js';
import type { NetworkPolicy } from '../api/networkpolicy.js';
import { FIELD_MANAGER } from '../api/softtenant.js';
import { isNotFound, KubeApiError, kubeCall } from './errors.js';
import { requestJson } from './raw-request.js';

function path(namespace: string, name: string): string {
  return `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies/${encodeURIComponent(name)}`;
}

function describe(policy: { metadata: { namespace?: string; name: string } }): string {
  return `NetworkPolicy ${policy.metadata.namespace ?? ''}/${policy.metadata.name}`;
}

/**
 * The apply configuration: only the fields the operator owns. Anything else in `policy`
 * (uid, resourceVersion, status, managedFields) is left out so the apply never claims it.
 */
export function applyConfiguration(policy: NetworkPolicy): NetworkPolicy {
  const { name, namespace, labels, annotations, ownerReferences } = policy.metadata;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels, annotations, ownerReferences },
    spec: policy.spec,
  };
}

/**
 * Server-side apply with force: the operator's field manager takes back fields someone edited.
 * Returns the object as stored.
 */
export async function applyPolicy(kc: KubeAccess, policy: NetworkPolicy): Promise<NetworkPolicy> {
  const namespace = policy.metadata.namespace;
  if (!namespace) throw new Error(`${describe(policy)} has no namespace`);
  const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true' });
  return kubeCall(`applying ${describe(policy)}`, () =>
    requestJson<NetworkPolicy>(
      kc,
      'PATCH',
      `${path(namespace, policy.metadata.name)}?${query.toString()}`,
      applyConfiguration(policy),
      // JSON is YAML: the apply content type takes it as it is.
      'application/apply-patch+yaml',
    ),
  );
}

/** Deletes the object that was read (UID precondition), so a same-named successor is safe. */
export async function deletePolicy(kc: KubeAccess, policy: NetworkPolicy): Promise<void> {
  const namespace = policy.metadata.namespace ?? '';
  try {
    await requestJson(kc, 'DELETE', path(namespace, policy.metadata.name), {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid: policy.metadata.uid },
    });
  } catch (err) {
    if (isNotFound(err)) return;
    throw new KubeApiError(`deleting ${describe(policy)}`, err);
  }
}
