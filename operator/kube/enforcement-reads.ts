// The reads behind a tenant's enforcement status: the node agents' reports and the pods of the
// tenant's namespaces, both as the API server serves them (wire shape, paged).
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Pod } from '../api/networkpolicy.js';
import { NODE_ENFORCEMENT_PLURAL, type NodeEnforcement } from '../api/nodeenforcement.js';
import { GROUP, VERSION } from '../api/softtenant.js';
import { isNotFound, KubeApiError, kubeCall } from './errors.js';
import { listAllPages, PAGE_SIZE, type RawList } from './list.js';
import { requestJson } from './raw-request.js';

/** Every NodeEnforcement; none when the CRD is not installed (then no node reports anything). */
export async function listNodeEnforcements(api: CustomObjectsApi): Promise<NodeEnforcement[]> {
  try {
    return await listAllPages<NodeEnforcement>(
      (token) =>
        api.listClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: NODE_ENFORCEMENT_PLURAL,
          limit: PAGE_SIZE,
          _continue: token,
        }) as Promise<RawList<NodeEnforcement>>,
    );
  } catch (err) {
    if (isNotFound(err)) return [];
    throw new KubeApiError(`listing ${NODE_ENFORCEMENT_PLURAL}.${GROUP}`, err);
  }
}

/** The pods of the given namespaces, one paged LIST per namespace. */
export async function listPodsIn(kc: KubeConfig, namespaces: readonly string[]): Promise<Pod[]> {
  const lists = await Promise.all(
    namespaces.map((ns) =>
      kubeCall(`listing pods in namespace ${ns}`, () =>
        listAllPages<Pod>((token) => {
          const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
          if (token) query.set('continue', token);
          return requestJson<RawList<Pod>>(
            kc,
            'GET',
            `/api/v1/namespaces/${encodeURIComponent(ns)}/pods?${query.toString()}`,
          );
        }),
      ),
    ),
  );
  return lists.flat();
}
