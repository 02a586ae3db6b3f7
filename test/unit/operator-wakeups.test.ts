// The wake table (controller/wakeups.ts): for each kind of event, which tenants it wakes.
// Each row sets up the indexes with earlier events, then checks one event.
import { expect } from 'chai';
import type { NetworkPolicy, Pod } from '../../operator/api/networkpolicy.js';
import type { NodeEnforcement } from '../../operator/api/nodeenforcement.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL } from '../../operator/api/softtenant.js';
import { OwnershipIndex } from '../../operator/controller/ownership-index.js';
import { ReportEventFilter } from '../../operator/controller/report-event-filter.js';
import {
  NodePods,
  WATCHES,
  type WakeIndexes,
  type Watched,
  type WatchedKind,
  type WatchEventType,
} from '../../operator/controller/wakeups.js';
import { ns, tenant } from './tenant-fixtures.js';

type Event = { [K in WatchedKind]: { kind: K; type: WatchEventType; object: Watched[K] } }[WatchedKind];

const ev = <K extends WatchedKind>(kind: K, type: WatchEventType, object: Watched[K]): Event =>
  ({ kind, type, object }) as Event;

function policy(namespace: string, name: string, labels: Record<string, string>): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels },
    spec: { podSelector: {} },
  };
}

function pod(namespace: string, name: string, node?: string): Pod {
  return { metadata: { name, namespace }, spec: { ...(node ? { nodeName: node } : {}), containers: [] } };
}

function report(node: string, generation: number): NodeEnforcement {
  return {
    apiVersion: 'tenancy.softtenant.io/v1alpha1',
    kind: 'NodeEnforcement',
    metadata: { name: node },
    status: {
      heartbeatSeconds: 10,
      heartbeatTime: '2026-12-01T10:00:00Z',
      policies: [{ namespace: 'a1', name: 'p', uid: 'u', generation }],
    },
  };
}

/** Two selector tenants (team x, team y), one by names, their namespaces labelled. */
const cluster: Event[] = [
  ev('SoftTenant', 'ADDED', tenant('x', { namespaces: { selector: { matchLabels: { team: 'x' } } } })),
  ev('SoftTenant', 'ADDED', tenant('y', { namespaces: { selector: { matchLabels: { team: 'y' } } } })),
  ev('SoftTenant', 'ADDED', tenant('a', { namespaces: { names: ['a1'] } })),
  ev('Namespace', 'ADDED', ns('nx', { team: 'x', [TENANT_LABEL]: 'x' })),
  ev('Namespace', 'ADDED', ns('a1', { [TENANT_LABEL]: 'a' })),
  ev('Namespace', 'ADDED', ns('free')),
  ev('Pod', 'ADDED', pod('a1', 'pa', 'node-1')),
  ev('Pod', 'ADDED', pod('nx', 'px', 'node-2')),
];

const rows: { name: string; before?: Event[]; event: Event; wakes: string[] }[] = [
  { name: 'a new tenant wakes itself', event: ev('SoftTenant', 'ADDED', tenant('n', {})), wakes: ['n'] },
  {
    name: 'a tenant that starts claiming a held namespace wakes its holder too',
    event: ev('SoftTenant', 'MODIFIED', tenant('y', { namespaces: { names: ['a1'] } })),
    wakes: ['a', 'y'],
  },
  {
    name: 'a relabelled namespace wakes the selectors matching before and after',
    event: ev('Namespace', 'MODIFIED', ns('nx', { team: 'y', [TENANT_LABEL]: 'x' })),
    wakes: ['x', 'y'],
  },
  {
    name: 'a namespace no tenant claims wakes no tenant',
    event: ev('Namespace', 'MODIFIED', ns('free', { other: 'label' })),
    wakes: [],
  },
  {
    name: 'a namespace labelled for a tenant that does not exist wakes that name (to clean up)',
    event: ev('Namespace', 'MODIFIED', ns('free', { [TENANT_LABEL]: 'ghost' })),
    wakes: ['ghost'],
  },
  { name: 'a deleted namespace wakes its holder', event: ev('Namespace', 'DELETED', ns('a1')), wakes: ['a'] },
  {
    name: 'a generated policy wakes the tenant it names',
    event: ev(
      'NetworkPolicy',
      'DELETED',
      policy('a1', 'p', { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [TENANT_LABEL]: 'a' }),
    ),
    wakes: ['a'],
  },
  {
    name: 'a policy without a tenant label wakes no tenant',
    event: ev('NetworkPolicy', 'MODIFIED', policy('a1', 'p', { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE })),
    wakes: [],
  },
  {
    name: 'a user\u2019s policy wakes the tenant holding its namespace (a name collision may appear or clear)',
    event: ev('NetworkPolicy', 'ADDED', policy('a1', 'stn-a-isolation', { mine: 'yes' })),
    wakes: ['a'],
  },
  {
    name: 'a user\u2019s policy outside tenants wakes none',
    event: ev('NetworkPolicy', 'DELETED', policy('free', 'p', { [TENANT_LABEL]: 'a' })),
    wakes: [],
  },
  {
    name: 'a pod wakes the tenant holding its namespace',
    event: ev('Pod', 'ADDED', pod('a1', 'new', 'node-3')),
    wakes: ['a'],
  },
  {
    name: 'a pod outside tenants wakes none',
    event: ev('Pod', 'ADDED', pod('free', 'p', 'node-1')),
    wakes: [],
  },
  {
    name: 'a node report wakes only the tenants with pods on that node',
    event: ev('NodeEnforcement', 'ADDED', report('node-1', 1)),
    wakes: ['a'],
  },
  {
    name: 'a node report of a node without tenant pods wakes none',
    event: ev('NodeEnforcement', 'ADDED', report('node-9', 1)),
    wakes: [],
  },
  {
    name: 'a report that changes nothing a status reads (a heartbeat) wakes none',
    before: [ev('NodeEnforcement', 'ADDED', report('node-1', 1))],
    event: ev('NodeEnforcement', 'MODIFIED', {
      ...report('node-1', 1),
      status: { ...report('node-1', 1).status, heartbeatTime: '2026-12-01T10:00:10Z' },
    }),
    wakes: [],
  },
  {
    name: 'a report programming a new generation wakes the tenants on that node',
    before: [ev('NodeEnforcement', 'ADDED', report('node-2', 1))],
    event: ev('NodeEnforcement', 'MODIFIED', report('node-2', 2)),
    wakes: ['x'],
  },
  {
    name: 'after its last pod left a node, the node\u2019s report no longer wakes the tenant',
    before: [ev('Pod', 'DELETED', pod('a1', 'pa', 'node-1'))],
    event: ev('NodeEnforcement', 'ADDED', report('node-1', 1)),
    wakes: [],
  },
];

function deliver(indexes: WakeIndexes, e: Event): string[] {
  const row = WATCHES[e.kind] as { wake: (t: WatchEventType, o: unknown, i: WakeIndexes) => string[] };
  return row.wake(e.type, e.object, indexes);
}

describe('operator: the wake table', function () {
  for (const row of rows) {
    it(row.name, function () {
      const indexes: WakeIndexes = {
        ownership: new OwnershipIndex(),
        nodePods: new NodePods(),
        reports: new ReportEventFilter(),
      };
      for (const e of [...cluster, ...(row.before ?? [])]) deliver(indexes, e);
      expect(deliver(indexes, row.event)).to.deep.equal(row.wakes);
    });
  }

  it('watches every policy (collisions are read from the cache), and delays pod wake-ups', function () {
    expect(WATCHES.NetworkPolicy.watch.labelSelector).to.equal(undefined);
    expect(WATCHES.Pod.delayMs).to.be.greaterThan(0);
    expect(WATCHES.NodeEnforcement.optional).to.equal(true);
  });
});
