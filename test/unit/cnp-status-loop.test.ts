// The ClusterNetworkPolicies' status loop over in-memory caches and a recording writer, on a
// clock the test moves: any policy (here a platform team's, no softtenant label) gets its
// Programmed condition from the reports of the nodes running pods its subject selects; an event
// wakes only the policies it concerns (the namespaces and nodes their last pass saw); a pass
// whose condition is already stored writes nothing.
import { expect } from 'chai';
import type { ClusterNetworkPolicy } from '../../operator/api/clusternetworkpolicy.js';
import type { Condition } from '../../operator/api/conditions.js';
import type { Namespace, Pod } from '../../operator/api/networkpolicy.js';
import type { NodeEnforcement } from '../../operator/api/nodeenforcement.js';
import {
  ClusterPolicyStatusLoop,
  clusterPolicyStatus,
  type ClusterPolicyStatusReads,
} from '../../operator/controller/cnp-status-loop.js';
import { ManualClock, settle } from '../support/manual-clock.js';
import { ns } from './tenant-fixtures.js';

function cnp(
  name: string,
  subject: ClusterNetworkPolicy['spec']['subject'],
  generation = 1,
): ClusterNetworkPolicy {
  return {
    apiVersion: 'policy.networking.k8s.io/v1beta1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name, uid: `uid-${name}`, generation },
    spec: { tier: 'Admin', priority: 10, subject, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] },
  };
}

function pod(name: string, namespace: string, node: string, labels: Record<string, string> = {}): Pod {
  return {
    metadata: { name, namespace, labels },
    spec: { nodeName: node, containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: '10.1.0.1' },
  };
}

function report(node: string, programmed: ClusterNetworkPolicy[], heartbeatTime: string): NodeEnforcement {
  return {
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'NodeEnforcement',
    metadata: { name: node },
    status: {
      heartbeatTime,
      // Long enough that no report turns stale while the test moves the clock.
      heartbeatSeconds: 3600,
      policies: [],
      clusterNetworkPolicies: programmed.map((p) => ({
        name: p.metadata.name,
        uid: p.metadata.uid ?? '',
        generation: p.metadata.generation ?? 0,
      })),
      errors: [],
    },
  };
}

/** In-memory caches; a write stores the conditions as the API server would. */
class World implements ClusterPolicyStatusReads {
  policies = new Map<string, ClusterNetworkPolicy>();
  nsList: Namespace[] = [];
  podList: Pod[] = [];
  reportList: NodeEnforcement[] = [];
  writes: { name: string; conditions: Condition[] }[] = [];

  clusterNetworkPolicy(name: string): ClusterNetworkPolicy | undefined {
    return this.policies.get(name);
  }
  clusterNetworkPolicies(): ClusterNetworkPolicy[] {
    return [...this.policies.values()];
  }
  namespaces(): Namespace[] {
    return this.nsList;
  }
  pods(namespace: string): Pod[] {
    return this.podList.filter((p) => p.metadata.namespace === namespace);
  }
  reports(): NodeEnforcement[] {
    return this.reportList;
  }
  applyStatus(policy: ClusterNetworkPolicy, conditions: Condition[]): Promise<void> {
    this.writes.push({ name: policy.metadata.name, conditions });
    const stored = this.policies.get(policy.metadata.name);
    if (stored) {
      const kept = (stored.status?.conditions ?? []).filter(
        (c) => !conditions.some((n) => n.type === c.type),
      );
      this.policies.set(policy.metadata.name, {
        ...stored,
        status: { conditions: [...kept, ...conditions] },
      });
    }
    return Promise.resolve();
  }
}

const prodWeb = cnp('platform-prod-web', {
  pods: { namespaceSelector: { matchLabels: { env: 'prod' } }, podSelector: { matchLabels: { app: 'web' } } },
});
const staging = cnp('platform-staging', { namespaces: { matchLabels: { env: 'staging' } } });

function world(clock: ManualClock): World {
  const w = new World();
  w.policies.set(prodWeb.metadata.name, prodWeb);
  w.policies.set(staging.metadata.name, staging);
  w.nsList = [ns('shop', { env: 'prod' }), ns('tools'), ns('stage')];
  w.podList = [pod('web', 'shop', 'n1', { app: 'web' }), pod('db', 'shop', 'n2', { app: 'db' })];
  w.reportList = [report('n1', [prodWeb], new Date(clock.now()).toISOString())];
  return w;
}

function programmed(w: World, name: string): Condition | undefined {
  return w.policies.get(name)?.status?.conditions?.find((c) => c.type === 'Programmed');
}

describe('ClusterNetworkPolicy status loop: every policy, per policy', () => {
  it('computes Programmed over the nodes of the pods its subject selects, and what the pass saw', () => {
    const clock = new ManualClock();
    const w = world(clock);
    const now = new Date(clock.now());
    const status = clusterPolicyStatus(prodWeb, { ...bind(w), now });
    expect(status.conditions.find((c) => c.type === 'Programmed')).to.include({
      status: 'True',
      reason: 'Programmed',
      observedGeneration: 1,
    });
    expect([...status.footprint.namespaces]).to.deep.equal(['shop']);
    // db is in shop but not app=web: n2 asks nothing.
    expect([...status.footprint.nodes]).to.deep.equal(['n1']);
    const none = clusterPolicyStatus(staging, { ...bind(w), now });
    expect(none.conditions[0]).to.include({
      status: 'True',
      reason: 'NoSelectedPods',
      observedGeneration: 1,
    });
    const newer = cnp(prodWeb.metadata.name, prodWeb.spec.subject, 2);
    const pending = clusterPolicyStatus(newer, { ...bind(w), now });
    expect(pending.conditions[0]).to.include({ status: 'False', reason: 'Pending', observedGeneration: 2 });
  });

  it('writes each policy once, then nothing at rest; wakes only the policies an event concerns', async () => {
    const clock = new ManualClock();
    const w = world(clock);
    const loop = new ClusterPolicyStatusLoop({
      reads: w,
      writer: w,
      resyncPeriodMs: 60_000,
      clock,
      podDelayMs: 0,
    });
    loop.start();
    await settle();
    expect(w.writes.map((x) => x.name).sort()).to.deep.equal([prodWeb.metadata.name, staging.metadata.name]);
    expect(programmed(w, prodWeb.metadata.name)).to.include({ reason: 'Programmed' });
    expect(programmed(w, staging.metadata.name)).to.include({ reason: 'NoSelectedPods' });

    // The resync passes over both: nothing changed, nothing written.
    w.writes = [];
    await clock.advance(60_000);
    expect(w.writes).to.deep.equal([]);

    // A pod of the staging namespace: only the staging policy is recomputed, and now it must be
    // programmed on n3, which has no report.
    const reads: string[] = [];
    const spy = w.clusterNetworkPolicy.bind(w);
    w.clusterNetworkPolicy = (name) => (reads.push(name), spy(name));
    const stagingPod = pod('api', 'stage', 'n3');
    w.podList.push(stagingPod);
    // Not yet labelled env=staging: the event concerns no policy.
    loop.observe('Pod', 'ADDED', stagingPod);
    await clock.advance(0);
    expect(reads).to.deep.equal([]);
    // The label makes the staging policy select it: that one is woken, the other not.
    const labelled = ns('stage', { env: 'staging' });
    w.nsList = [w.nsList[0], w.nsList[1], labelled];
    loop.observe('Namespace', 'MODIFIED', labelled);
    await clock.advance(0);
    expect(reads).to.deep.equal([staging.metadata.name]);
    expect(programmed(w, staging.metadata.name)).to.include({ status: 'False', reason: 'NotProgrammed' });
    expect(programmed(w, staging.metadata.name)?.message).to.include('n3');

    // n3's agent reports it: only the policy that needs n3 is woken, and is Programmed.
    reads.length = 0;
    const n3 = report('n3', [staging], new Date(clock.now()).toISOString());
    w.reportList = [...w.reportList, n3];
    loop.observe('NodeEnforcement', 'ADDED', n3);
    await clock.advance(0);
    expect(reads).to.deep.equal([staging.metadata.name]);
    expect(programmed(w, staging.metadata.name)).to.include({ status: 'True', reason: 'Programmed' });

    // A spec change: the policy is recomputed at its new generation (Pending until n1 reports it).
    const edited = {
      ...cnp(prodWeb.metadata.name, prodWeb.spec.subject, 2),
      status: w.policies.get(prodWeb.metadata.name)?.status,
    };
    w.policies.set(edited.metadata.name, edited);
    loop.observe('ClusterNetworkPolicy', 'MODIFIED', edited);
    await clock.advance(0);
    expect(programmed(w, prodWeb.metadata.name)).to.include({
      status: 'False',
      reason: 'Pending',
      observedGeneration: 2,
    });
    await loop.stop();
  });
});

function bind(w: World): Pick<World, 'namespaces' | 'pods' | 'reports'> {
  return { namespaces: () => w.namespaces(), pods: (n) => w.pods(n), reports: () => w.reports() };
}
