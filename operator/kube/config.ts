// Loads the kubeconfig the same way kubectl does: KUBECONFIG, ~/.kube/config, or in-cluster.
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster())
    throw new Error('no Kubernetes cluster configured (set KUBECONFIG or run in a cluster)');
  return kc;
}
