// The resource an API path names (the `resource` label of the REST client metrics).
import { expect } from 'chai';
import { resourceOfPath } from '../../operator/kube/api-path.js';

describe('resourceOfPath', () => {
  const rows: [string, string][] = [
    ['/api/v1/namespaces', 'namespaces'],
    ['/api/v1/namespaces/team-a', 'namespaces'],
    ['/api/v1/namespaces/team-a/status', 'namespaces/status'],
    ['/api/v1/namespaces/team-a/finalize', 'namespaces/finalize'],
    ['/api/v1/namespaces/team-a/pods', 'pods'],
    ['/api/v1/namespaces/team-a/pods/web-0', 'pods'],
    ['/api/v1/pods?labelSelector=a%3Db&limit=500', 'pods'],
    ['/api/v1/namespaces/team-a/events', 'events'],
    ['/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/stn-a?fieldManager=x', 'networkpolicies'],
    ['/apis/tenancy.softtenant.io/v1alpha1/softtenants/team-a', 'softtenants'],
    ['/apis/tenancy.softtenant.io/v1alpha1/softtenants/team-a/status', 'softtenants/status'],
    ['/apis/coordination.k8s.io/v1/namespaces/softtenant-system/leases/softtenant-operator', 'leases'],
    [
      '/apis/policy.networking.k8s.io/v1beta1/clusternetworkpolicies/x/status',
      'clusternetworkpolicies/status',
    ],
    ['/apis/tenancy.softtenant.io/v1alpha1', 'discovery'],
    ['/apis', 'discovery'],
    ['/api/v1', 'discovery'],
    ['/openapi/v3', 'openapi'],
    ['/version', 'version'],
    ['/', 'discovery'],
  ];
  for (const [path, resource] of rows) {
    it(`${path} -> ${JSON.stringify(resource)}`, () => expect(resourceOfPath(path)).to.equal(resource));
  }
});
