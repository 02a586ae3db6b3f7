// The install manifests: config/default renders with the kubectl kustomize of the cluster's
// version, applies to the real API server, and its workloads are admitted (the controllers
// create their pods; no kubelet runs them here). The NodeEnforcement CRD keeps every field the
// agent writes and shows its printer columns; the Argo CD overlay carries the sync waves and
// passes a server-side dry run; the argocd-cm key is the tested health.lua, byte for byte.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { NodeEnforcementStatus } from '../../operator/api/nodeenforcement.js';
import { kubectl, repoRoot } from '../support/controlplane.js';
import {
  AGENT_SA,
  OPERATOR_SA,
  SYSTEM_NAMESPACE,
  install,
  poll,
  render,
  tryKubectl,
  type Installation,
  type KubeObject,
  agentPodFor,
} from './install-fixture.js';

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PodSpec {
  serviceAccountName: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  priorityClassName?: string;
  tolerations?: { operator?: string; key?: string; effect?: string }[];
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
  volumes?: { name: string; hostPath?: { path: string; type?: string } }[];
}

interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

const IMAGE = 'ghcr.io/softtenant/softtenant:v0.1.0';
const find = (objs: KubeObject[], kind: string, name: string): KubeObject => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`rendered output has no ${kind}/${name}`);
  return o;
};

describe('install: config/default manifests on the real API server', function () {
  this.timeout(180_000);
  let installation: Installation | undefined;
  let objects: KubeObject[] = [];

  before(async () => {
    objects = render('config/default');
    installation = await install({ clientSide: true }); // plain `kubectl apply -k`; the others use --server-side
  });
  after(() => {
    tryKubectl([
      'delete',
      'nodeenforcements.tenancy.softtenant.io',
      '--ignore-not-found',
      'st-manifest-node',
      'st-bad-report',
    ]);
    tryKubectl(['delete', 'node', '--ignore-not-found', 'st-manifest-node']);
    installation?.uninstall();
  });

  it('renders the expected objects, namespaced ones in softtenant-system and policies cluster-scoped', () => {
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(ids).to.deep.equal(
      [
        'ClusterRole/softtenant-agent',
        'ClusterRole/softtenant-operator',
        'ClusterRoleBinding/softtenant-agent',
        'ClusterRoleBinding/softtenant-operator',
        'CustomResourceDefinition/nodeenforcements.tenancy.softtenant.io',
        'CustomResourceDefinition/clusternetworkpolicies.policy.networking.k8s.io',
        'CustomResourceDefinition/softtenants.tenancy.softtenant.io',
        'DaemonSet/softtenant-agent',
        'Deployment/softtenant-operator',
        'Namespace/softtenant-system',
        'PodDisruptionBudget/softtenant-operator',
        'Role/softtenant-leader-election',
        'RoleBinding/softtenant-leader-election',
        'Service/softtenant-operator-metrics',
        'ServiceAccount/softtenant-agent',
        'ServiceAccount/softtenant-operator',
        'ValidatingAdmissionPolicy/softtenant-agent-own-node',
        'ValidatingAdmissionPolicy/softtenant-agent-pod-status',
        'ValidatingAdmissionPolicy/softtenant-tenant-label',
        'ValidatingAdmissionPolicyBinding/softtenant-agent-own-node',
        'ValidatingAdmissionPolicyBinding/softtenant-agent-pod-status',
        'ValidatingAdmissionPolicyBinding/softtenant-tenant-label',
      ].sort(),
    );
    const clusterScoped = new Set([
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Namespace',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const o of objects) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).to.equal(
        clusterScoped.has(o.kind) ? undefined : SYSTEM_NAMESPACE,
      );
      expect(o.metadata.labels?.['app.kubernetes.io/part-of'], `${o.kind}/${o.metadata.name}`).to.equal(
        'softtenant',
      );
    }
  });

  it('names the operator and agent identities where docs/install.md patches them', () => {
    type Policy = KubeObject & {
      spec: {
        variables?: { name: string; expression: string }[];
        matchConditions?: { name: string; expression: string }[];
      };
    };
    const label = find(objects, 'ValidatingAdmissionPolicy', 'softtenant-tenant-label') as Policy;
    expect(label.spec.variables?.[0]).to.deep.equal({ name: 'operator', expression: `'${OPERATOR_SA}'` });
    const ownNode = find(objects, 'ValidatingAdmissionPolicy', 'softtenant-agent-own-node') as Policy;
    expect(ownNode.spec.matchConditions?.[0]?.expression).to.equal(
      `request.userInfo.username == '${AGENT_SA}'`,
    );
    const podStatus = find(objects, 'ValidatingAdmissionPolicy', 'softtenant-agent-pod-status') as Policy;
    expect(podStatus.spec.matchConditions?.[0]?.expression).to.equal(
      `request.userInfo.username == '${AGENT_SA}'`,
    );
    const docs = readFileSync(join(repoRoot, 'docs/install.md'), 'utf8');
    expect(docs)
      .to.include('path: /spec/variables/0/expression')
      .and.include('path: /spec/matchConditions/0/expression');
  });

  it('created every rendered object', () => {
    const manifest = objects.map((o) => `---\n${yaml.dump(o)}`).join('');
    const res = tryKubectl(['get', '-f', '-', '-o', 'name'], manifest);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout.trim().split('\n')).to.have.length(objects.length);
  });

  it('runs the operator as two non-root, read-only replicas with leader election, probes and a PDB', async () => {
    const dep = find(objects, 'Deployment', 'softtenant-operator') as Workload;
    expect(dep.spec.replicas).to.equal(2);
    const pod = dep.spec.template.spec;
    expect(pod.serviceAccountName).to.equal('softtenant-operator');
    expect(pod.securityContext?.runAsNonRoot).to.equal(true);
    const c = pod.containers[0];
    expect(c.image).to.equal(IMAGE);
    expect(c.args).to.deep.equal([
      'operator',
      '--leader-elect',
      '--leader-election-namespace=softtenant-system',
      '--metrics-bind-address=:8080',
      '--health-probe-bind-address=:8081',
    ]);
    expect(c.ports?.map((p) => `${p.name}:${p.containerPort}`)).to.deep.equal([
      'metrics:8080',
      'health:8081',
    ]);
    expect(c.readinessProbe?.httpGet).to.deep.equal({ path: '/readyz', port: 'health' });
    expect(c.livenessProbe?.httpGet).to.deep.equal({ path: '/healthz', port: 'health' });
    expect(c.securityContext).to.deep.include({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
    expect(c.securityContext?.capabilities).to.deep.equal({ drop: ['ALL'] });
    expect(c.resources?.requests).to.have.keys('cpu', 'memory');
    expect(c.resources?.limits).to.have.property('memory');

    const pdb = find(objects, 'PodDisruptionBudget', 'softtenant-operator') as KubeObject & {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(pdb.spec.minAvailable).to.equal(1);
    expect(dep.spec.template.metadata.labels).to.include(pdb.spec.selector.matchLabels);

    // The ReplicaSet controller created both pods: the API server (Pod Security admission
    // included) accepted the pod template.
    await poll('two operator pods', 60_000, () => {
      const out = kubectl([
        'get',
        'pods',
        '-n',
        SYSTEM_NAMESPACE,
        '-l',
        'app.kubernetes.io/component=operator',
        '-o',
        'name',
      ]);
      return out.trim().split('\n').filter(Boolean).length === 2 ? true : undefined;
    });
  });

  it('runs the agent on every node with hostNetwork and only NET_ADMIN and NET_RAW', async () => {
    const ds = find(objects, 'DaemonSet', 'softtenant-agent') as Workload;
    const pod = ds.spec.template.spec;
    expect(pod.serviceAccountName).to.equal('softtenant-agent');
    expect(pod.hostNetwork).to.equal(true);
    expect(pod.dnsPolicy).to.equal('ClusterFirstWithHostNet');
    expect(pod.priorityClassName).to.equal('system-node-critical');
    expect(pod.tolerations).to.deep.equal([{ operator: 'Exists' }]);
    const c = pod.containers[0];
    expect(c.image).to.equal(IMAGE);
    expect(c.args?.[0]).to.equal('agent');
    expect(c.securityContext?.privileged).to.equal(false);
    expect(c.securityContext?.allowPrivilegeEscalation).to.equal(false);
    expect(c.securityContext?.readOnlyRootFilesystem).to.equal(true);
    expect(c.securityContext?.capabilities).to.deep.equal({ drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
    expect(c.env).to.deep.include({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    expect(c.ports?.map((p) => p.name).sort()).to.deep.equal(['health', 'metrics']);
    expect(c.readinessProbe?.httpGet?.path).to.equal('/readyz');
    expect(c.livenessProbe?.httpGet?.path).to.equal('/healthz');
    const lockMount = c.volumeMounts?.find((m) => m.mountPath === '/run/xtables.lock');
    expect(lockMount, 'xtables lock mount').to.not.equal(undefined);
    const lockVolume = pod.volumes?.find((v) => v.name === lockMount?.name);
    expect(lockVolume?.hostPath).to.deep.equal({ path: '/run/xtables.lock', type: 'FileOrCreate' });
    // Only the lock comes from the host.
    expect(pod.volumes?.filter((v) => v.hostPath).length).to.equal(1);

    // The DaemonSet controller creates an agent pod for a new node: the template is admitted
    // in softtenant-system (Pod Security "privileged" there, which hostNetwork needs).
    kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Node\nmetadata:\n  name: st-manifest-node\n');
    await agentPodFor('st-manifest-node');
  });

  it("ships an uninstall DaemonSet that runs `softtenant agent --cleanup` with the agent's rights", () => {
    const [ds] = render('config/cleanup') as (Workload & {
      spec: {
        template: { spec: PodSpec & { initContainers: Container[]; automountServiceAccountToken?: boolean } };
      };
    })[];
    const agent = find(objects, 'DaemonSet', 'softtenant-agent') as Workload;
    const pod = ds?.spec.template.spec;
    const cleanup = pod?.initContainers[0];
    expect(cleanup?.args).to.deep.equal(['agent', '--cleanup']);
    expect(cleanup?.securityContext).to.deep.equal(agent.spec.template.spec.containers[0]?.securityContext);
    expect(pod?.hostNetwork).to.equal(true);
    expect(pod?.tolerations).to.deep.equal([{ operator: 'Exists' }]);
    expect(pod?.automountServiceAccountToken).to.equal(false);
    const res = tryKubectl([
      'apply',
      '--server-side',
      '--dry-run=server',
      '-k',
      join(repoRoot, 'config/cleanup'),
    ]);
    expect(res.code, res.stderr).to.equal(0);
  });

  // A container whose args the CLI rejects would crash-loop in a real cluster, where this suite
  // cannot run pods: so ask the built CLI itself. Flags are parsed before --help is honoured.
  it('passes only flags that the softtenant CLI accepts', () => {
    const cleanup = render('config/cleanup')[0] as Workload & {
      spec: { template: { spec: { initContainers: Container[] } } };
    };
    const commands = [
      ...(find(objects, 'Deployment', 'softtenant-operator') as Workload).spec.template.spec.containers,
      ...(find(objects, 'DaemonSet', 'softtenant-agent') as Workload).spec.template.spec.containers,
      ...cleanup.spec.template.spec.initContainers,
    ].map((c) => c.args ?? []);
    const cli = join(repoRoot, 'dist/operator/cli/main.js');
    const rejected = commands
      .map((args) => ({
        args,
        res: spawnSync(process.execPath, [cli, ...args, '--help'], { encoding: 'utf8' }),
      }))
      .filter(({ res }) => res.status !== 0)
      .map(({ args, res }) => `softtenant ${args.join(' ')}: ${res.stderr.split('\n')[0] ?? ''}`);
    expect(rejected).to.deep.equal([]);
  });

  describe('the NodeEnforcement CRD', () => {
    // Every field of operator/api/nodeenforcement.ts, so that a field the CRD lacks (and the API
    // server would silently prune) fails the round trip.
    const status: Required<NodeEnforcementStatus> = {
      backend: 'nft',
      agentVersion: 'v0.1.0',
      heartbeatTime: '2026-05-04T10:00:30Z',
      heartbeatSeconds: 15,
      lastSyncTime: '2026-05-04T10:00:20Z',
      lastSyncDurationMs: 42,
      chains: 7,
      rules: 31,
      ipsetEntries: 120,
      families: {
        ipv4: { chains: 4, rules: 15, ipsetEntries: 70 },
        ipv6: { chains: 3, rules: 16, ipsetEntries: 50 },
      },
      localPods: 12,
      newPods: { mode: 'FailClosed', podCIDRs: ['10.244.1.0/24'], message: 'ranges from the Node' },
      policies: [
        {
          namespace: 'acme-dev',
          name: 'softtenant-ingress',
          uid: '0b4f3c1e-6f9a-4d7e-9b1d-5d2c1a0e9f11',
          generation: 3,
        },
      ],
      clusterNetworkPolicies: [
        { name: 'softtenant-acme-ingress', uid: '5e0c2a8d-1b7f-4c3e-8a9d-2f6b1c0d7e33', generation: 2 },
      ],
      errors: [
        { namespace: '', name: '', reason: 'ApplyFailed', message: 'iptables-restore: line 4 failed' },
        { namespace: 'acme-dev', name: 'weird', reason: 'InjectedFailure', message: 'made to fail' },
        {
          kind: 'ClusterNetworkPolicy',
          namespace: '',
          name: 'to-nodes',
          reason: 'NotProgrammable',
          message: 'spec.egress[0].to[0].nodes: experimental peer, not supported by softtenant',
        },
      ],
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'ApplyFailed',
          message: 'iptables-restore: line 4 failed',
          observedGeneration: 1,
          lastTransitionTime: '2026-05-04T10:00:20Z',
        },
      ],
    };

    it('keeps every field of the agent report (nothing pruned)', () => {
      kubectl(
        ['create', '-f', '-'],
        'apiVersion: tenancy.softtenant.io/v1alpha1\nkind: NodeEnforcement\nmetadata:\n  name: st-manifest-node\n',
      );
      kubectl([
        'patch',
        'nodeenforcement',
        'st-manifest-node',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status }),
      ]);
      const live = JSON.parse(kubectl(['get', 'nodeenforcement', 'st-manifest-node', '-o', 'json'])) as {
        status: unknown;
      };
      expect(live.status).to.deep.equal(status);
    });

    it('shows backend, counts, last sync and readiness as printer columns, reachable as stne', () => {
      const table = kubectl(['get', 'stne', 'st-manifest-node']).trim().split('\n');
      expect(table[0]?.split(/\s{2,}/)).to.deep.equal([
        'NAME',
        'BACKEND',
        'CHAINS',
        'RULES',
        'LAST SYNC',
        'READY',
        'NEW PODS',
        'AGE',
      ]);
      expect(table[1]?.split(/\s{2,}/).slice(0, 4)).to.deep.equal(['st-manifest-node', 'nft', '7', '31']);
      expect(table[1]?.split(/\s{2,}/)[5]).to.equal('False');
      const wide = kubectl(['get', 'nodeenforcements', 'st-manifest-node', '-o', 'wide']).split('\n')[0];
      expect(wide).to.include('IPSET ENTRIES').and.include('HEARTBEAT');
      expect(kubectl(['api-resources', '--api-group=tenancy.softtenant.io', '--no-headers'])).to.match(
        /nodeenforcements\s+stne\s+tenancy\.softtenant\.io\/v1alpha1\s+false\s+NodeEnforcement/,
      );
    });

    it('explains its fields and rejects malformed reports', () => {
      expect(kubectl(['explain', 'nodeenforcement.status.policies.generation'])).to.include(
        "The policy's metadata.generation that is programmed",
      );
      kubectl(
        ['create', '-f', '-'],
        'apiVersion: tenancy.softtenant.io/v1alpha1\nkind: NodeEnforcement\nmetadata:\n  name: st-bad-report\n',
      );
      const bad = tryKubectl([
        'patch',
        'nodeenforcement',
        'st-bad-report',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { backend: 'ebpf', chains: -1 } }),
      ]);
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.include('status.backend').and.include('status.chains');
    });
  });

  describe('the Argo CD example (config/argocd)', () => {
    const wave = (o: KubeObject): string | undefined =>
      o.metadata.annotations?.['argocd.argoproj.io/sync-wave'];

    it('orders the install by sync waves: CRDs, then the operator, then tenants', () => {
      const overlay = render('config/argocd');
      const waves = new Map(overlay.map((o) => [`${o.kind}/${o.metadata.name}`, wave(o) ?? '0']));
      expect(waves.get('CustomResourceDefinition/softtenants.tenancy.softtenant.io')).to.equal('-1');
      expect(waves.get('CustomResourceDefinition/nodeenforcements.tenancy.softtenant.io')).to.equal('-1');
      expect(waves.get('Namespace/softtenant-system')).to.equal('-1');
      expect(waves.get('ClusterRole/softtenant-operator')).to.equal('0');
      expect(waves.get('ValidatingAdmissionPolicy/softtenant-tenant-label')).to.equal('0');
      expect(waves.get('Deployment/softtenant-operator')).to.equal('1');
      expect(waves.get('DaemonSet/softtenant-agent')).to.equal('1');
      const tenants = overlay.filter((o) => o.kind === 'SoftTenant');
      expect(tenants.length, 'the overlay includes the sample tenants').to.be.greaterThan(0);
      for (const t of tenants) {
        expect(wave(t), t.metadata.name).to.equal('2');
        expect(t.metadata.annotations?.['argocd.argoproj.io/sync-options']).to.equal(
          'SkipDryRunOnMissingResource=true',
        );
      }
      // Exactly the install plus the samples: nothing lost, nothing added.
      const id = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      expect(overlay.map(id).sort()).to.deep.equal([...objects, ...render('config/samples')].map(id).sort());
      // config/default itself stays free of Argo CD annotations.
      expect(objects.filter((o) => wave(o) !== undefined).map((o) => o.metadata.name)).to.deep.equal([]);
    });

    it('passes a server-side dry run of the whole overlay', () => {
      const res = tryKubectl([
        'apply',
        '--server-side',
        '--force-conflicts',
        '--dry-run=server',
        '-k',
        join(repoRoot, 'config/argocd'),
      ]);
      expect(res.code, res.stderr).to.equal(0);
    });

    it('points the example Application at that overlay with server-side apply', () => {
      const app = yaml.load(readFileSync(join(repoRoot, 'config/argocd/application.yaml'), 'utf8')) as {
        kind: string;
        spec: { source: { path: string }; syncPolicy: { syncOptions: string[] } };
      };
      expect(app.kind).to.equal('Application');
      expect(app.spec.source.path).to.equal('config/argocd');
      expect(app.spec.syncPolicy.syncOptions).to.include('ServerSideApply=true');
    });

    it('generates the argocd-cm key from the tested health.lua, byte for byte', () => {
      const [cm] = render('config/argocd/health') as (KubeObject & { data: Record<string, string> })[];
      expect(cm?.kind).to.equal('ConfigMap');
      expect(cm?.metadata).to.deep.include({ name: 'argocd-cm', namespace: 'argocd' });
      const lua = readFileSync(
        join(repoRoot, 'config/argocd/health/tenancy.softtenant.io/SoftTenant/health.lua'),
        'utf8',
      );
      expect(Object.keys(cm?.data ?? {})).to.deep.equal([
        'resource.customizations.health.tenancy.softtenant.io_SoftTenant',
      ]);
      expect(cm?.data['resource.customizations.health.tenancy.softtenant.io_SoftTenant']).to.equal(lua);
    });
  });
});
