// NetworkPolicy reads and writes. Reads go through the dynamic (custom objects) endpoints,
// which hand back the JSON exactly as the API server sent it: the typed models would rename
// `from` to `_from` and turn timestamps into Dates, and the controller compares what is there
// with the pure expansion's output in the wire shape. Writes use the typed NetworkingV1Api.
import {
  PatchStrategy,
  setHeaderOptions,
  type CustomObjectsApi,
  type NetworkingV1Api,
} from '@kubernetes/client-node';
import type { NetworkPolicy } from '../api/networkpolicy.js';
import { FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/softtenant.js';
import { isNotFound, KubeApiError, kubeCall } from './errors.js';
import { listAllPages, PAGE_SIZE, type RawList } from './list.js';

const resource = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies' } as const;

/** List items come without apiVersion/kind; put them back so objects are self-describing. */
function withTypeMeta(policy: NetworkPolicy): NetworkPolicy {
  return { ...policy, apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' };
}

function describe(policy: { metadata: { namespace?: string; name: string } }): string {
  return `NetworkPolicy ${policy.metadata.namespace ?? ''}/${policy.metadata.name}`;
}

export async function listManagedPolicies(api: CustomObjectsApi): Promise<NetworkPolicy[]> {
  const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
  const items = await kubeCall(`listing networkpolicies with ${labelSelector}`, () =>
    listAllPages<NetworkPolicy>(
      (token) =>
        api.listCustomObjectForAllNamespaces({
          ...resource,
          labelSelector,
          limit: PAGE_SIZE,
          _continue: token,
        }) as Promise<RawList<NetworkPolicy>>,
    ),
  );
  return items.map(withTypeMeta);
}

export async function getPolicy(
  api: CustomObjectsApi,
  namespace: string,
  name: string,
): Promise<NetworkPolicy | undefined> {
  try {
    const policy = (await api.getNamespacedCustomObject({ ...resource, namespace, name })) as NetworkPolicy;
    return withTypeMeta(policy);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new KubeApiError(`reading NetworkPolicy ${namespace}/${name}`, err);
  }
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

/** Server-side apply with force: the operator's field manager takes back fields someone edited. */
export async function applyPolicy(api: NetworkingV1Api, policy: NetworkPolicy): Promise<void> {
  const namespace = policy.metadata.namespace;
  if (!namespace) throw new Error(`${describe(policy)} has no namespace`);
  await kubeCall(`applying ${describe(policy)}`, () =>
    api.patchNamespacedNetworkPolicy(
      {
        name: policy.metadata.name,
        namespace,
        body: applyConfiguration(policy),
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    ),
  );
}

/** Deletes the object that was read (UID precondition), so a same-named successor is safe. */
export async function deletePolicy(api: NetworkingV1Api, policy: NetworkPolicy): Promise<void> {
  const namespace = policy.metadata.namespace ?? '';
  try {
    await api.deleteNamespacedNetworkPolicy({
      name: policy.metadata.name,
      namespace,
      body: { preconditions: { uid: policy.metadata.uid } },
    });
  } catch (err) {
    if (isNotFound(err)) return;
    throw new KubeApiError(`deleting ${describe(policy)}`, err);
  }
}
