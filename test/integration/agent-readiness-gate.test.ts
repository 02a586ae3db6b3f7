// The agent's writes for issue 13 against the real API server, with the identity it has on a
// node (config/default installed, a token bound to the agent pod of node st-gate-a): it reads
// its Node's spec.podCIDRs, sets the readiness gate condition on a pod of its node through
// pods/status, and is refused (RBAC + the softtenant-agent-pod-status admission policy) for a
// pod of another node and for any other change to a pod's status.
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { nodePodCidrs } from '../../operator/agent/pod-cidrs.js';
import { ENFORCED_GATE, kubePodConditions, type GatedPod } from '../../operator/agent/readiness-gate.js';
import { ApiError, requestJson } from '../../operator/kube/raw-request.js';
import { kubectl } from '../support/controlplane.js';
import {
  TokenKubeconfigs,
  install,
  tryKubectl,
  type Installation,
  agentTokenOnNode,
} from './install-fixture.js';

const NS = 'gate-test';
const NODES = ['st-gate-a', 'st-gate-b'];

interface LivePod {
  metadata: { uid: string };
  status?: { conditions?: { type: string; status: string; reason?: string }[]; phase?: string };
}

function gatedPod(name: string, node: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      nodeName: node,
      readinessGates: [{ conditionType: ENFORCED_GATE }],
      containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10.2' }],
    },
  });
}

function live(name: string): LivePod {
  return JSON.parse(kubectl(['-n', NS, 'get', 'pod', name, '-o', 'json'])) as LivePod;
}

function ref(name: string): GatedPod {
  return { namespace: NS, name, uid: live(name).metadata.uid };
}

/** A strategic merge patch of pods/status with the agent's token; the refusal's text, or undefined. */
let agentPatch: (name: string, body: object, dryRun?: boolean) => Promise<string | undefined>;

function gateCondition(name: string): { status: string; reason?: string } | undefined {
  return live(name).status?.conditions?.find((c) => c.type === ENFORCED_GATE);
}

describe('agent: readiness gate and pod CIDRs with the agent identity (real API server)', function () {
  this.timeout(180_000);
  let installation: Installation | undefined;
  let tokens: TokenKubeconfigs | undefined;
  let agentKc: KubeConfig;

  before(async () => {
    installation = await install();
    tokens = new TokenKubeconfigs();
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: NODES.map((name, i) => ({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name },
          spec: { podCIDR: `10.244.${70 + i}.0/24`, podCIDRs: [`10.244.${70 + i}.0/24`] },
        })),
      }),
    );
    kubectl(['create', 'namespace', NS]);
    // The agent's own pod on st-gate-a and a token bound to it, as the kubelet mounts it.
    agentKc = new KubeConfig();
    agentKc.loadFromFile(await agentTokenOnNode('st-gate-a', tokens));
    agentPatch = async (name, body, dryRun = false) => {
      try {
        await requestJson(
          agentKc,
          'PATCH',
          `/api/v1/namespaces/${NS}/pods/${name}/status${dryRun ? '?dryRun=All' : ''}`,
          body,
          'application/strategic-merge-patch+json',
        );
        return undefined;
      } catch (err) {
        if (err instanceof ApiError) return `${err.statusCode} ${err.body}`;
        throw err;
      }
    };
    for (const [name, node] of [
      ['on-a', 'st-gate-a'],
      ['on-b', 'st-gate-b'],
    ])
      kubectl(['create', '-f', '-'], gatedPod(name, node));
    // The pod-status policy is active once it refuses a dry run of a forbidden change.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const why = await agentPatch(
        'on-b',
        { status: { conditions: [{ type: ENFORCED_GATE, status: 'True' }] } },
        true,
      );
      if (why?.includes('softtenant-agent-pod-status')) break;
      if (Date.now() > deadline)
        throw new Error(`the agent pod-status admission policy is not active: ${why}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  after(() => {
    tryKubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
    tryKubectl(['delete', 'node', '--ignore-not-found', ...NODES]);
    tokens?.remove();
    installation?.uninstall();
  });

  it("reads its own Node's pod CIDRs", async () => {
    expect(await nodePodCidrs(agentKc, 'st-gate-a')).to.deep.equal(['10.244.70.0/24']);
  });

  it('sets the enforced condition of a pod on its node through pods/status', async () => {
    expect(gateCondition('on-a')).to.equal(undefined);
    expect(await kubePodConditions(agentKc).markEnforced(ref('on-a'), '2026-01-01T00:00:00Z')).to.equal(
      'patched',
    );
    expect(gateCondition('on-a')).to.include({ status: 'True', reason: 'RulesProgrammed' });
    // Setting it again is harmless (the merge is by condition type).
    expect(await kubePodConditions(agentKc).markEnforced(ref('on-a'), '2026-01-01T00:00:00Z')).to.equal(
      'patched',
    );
    expect(live('on-a').status?.conditions?.filter((c) => c.type === ENFORCED_GATE)).to.have.length(1);
  });

  it('is refused for a pod of another node, which stays unmarked', async () => {
    let error: Error | undefined;
    try {
      await kubePodConditions(agentKc).markEnforced(ref('on-b'), '2026-01-01T00:00:00Z');
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.include('may only mark pods of that node');
    expect(gateCondition('on-b')).to.equal(undefined);
  });

  it('may change nothing else in a pod status, even on its own node', async () => {
    const why = await agentPatch('on-a', { status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(why).to.include('may only set the tenancy.softtenant.io/enforced condition');
    expect(live('on-a').status?.conditions?.some((c) => c.type === 'Ready')).to.equal(false);
    const phase = await agentPatch('on-a', { status: { phase: 'Failed' } });
    expect(phase).to.include('may only set the tenancy.softtenant.io/enforced condition');
  });

  it('reports a pod recreated under the same name as gone instead of marking the new one', async () => {
    const old = ref('on-a');
    kubectl(['-n', NS, 'delete', 'pod', 'on-a', '--grace-period=0', '--force', '--wait']);
    kubectl(['create', '-f', '-'], gatedPod('on-a', 'st-gate-a'));
    expect(await kubePodConditions(agentKc).markEnforced(old, '2026-01-01T00:00:00Z')).to.equal('gone');
    expect(gateCondition('on-a')).to.equal(undefined);
  });
});
