// The demo's (and the end-to-end test's) world: two nodes, the pods of the sample tenants with
// their IPs and ports, a few hosts outside the cluster for the ipBlock cases, and the verdict
// the samples in config/samples/ declare for each probe. The expectations are written by hand
// from the samples' text, not computed by the code under test.
import type { LabProtocol } from '../protocol.js';

export interface ScenarioPod {
  namespace: string;
  name: string;
  node: string;
  ip: string;
  labels: Record<string, string>;
  ports: { name?: string; port: number; protocol: LabProtocol }[];
}

export interface ScenarioExternal {
  name: string;
  ip: string;
  node: string;
  ports: { port: number; protocol: LabProtocol }[];
}

export interface Expectation {
  from: string;
  to: string;
  port: number;
  protocol: LabProtocol;
  allowed: boolean;
  why: string;
}

export const NODES = ['node-a', 'node-b'];

/** Namespaces the pods live in that the samples do not declare, with their labels. */
export const EXTRA_NAMESPACES: { name: string; labels: Record<string, string> }[] = [
  { name: 'monitoring', labels: {} },
  { name: 'analytics', labels: { project: 'myproject' } },
];

export const PODS: ScenarioPod[] = [
  // node-a: 10.244.1.0/24
  {
    namespace: 'team-a-web',
    name: 'web',
    node: 'node-a',
    ip: '10.244.1.10',
    labels: { app: 'web' },
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9090, protocol: 'TCP' },
    ],
  },
  {
    namespace: 'team-b-api',
    name: 'api',
    node: 'node-a',
    ip: '10.244.1.11',
    labels: { app: 'api' },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  },
  {
    namespace: 'default',
    name: 'db',
    node: 'node-a',
    ip: '10.244.1.12',
    labels: { role: 'db' },
    ports: [{ name: 'redis', port: 6379, protocol: 'TCP' }],
  },
  {
    namespace: 'default',
    name: 'frontend',
    node: 'node-a',
    ip: '10.244.1.13',
    labels: { role: 'frontend' },
    ports: [{ port: 80, protocol: 'TCP' }],
  },
  // node-b: 10.244.2.0/24
  {
    namespace: 'team-a-db',
    name: 'pg',
    node: 'node-b',
    ip: '10.244.2.10',
    labels: { app: 'pg' },
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  },
  {
    namespace: 'team-b-jobs',
    name: 'worker',
    node: 'node-b',
    ip: '10.244.2.11',
    labels: { app: 'worker' },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  },
  {
    namespace: 'monitoring',
    name: 'prometheus',
    node: 'node-b',
    ip: '10.244.2.12',
    labels: { app: 'prometheus' },
    ports: [{ port: 9090, protocol: 'TCP' }],
  },
  {
    namespace: 'analytics',
    name: 'reporter',
    node: 'node-b',
    ip: '10.244.2.13',
    labels: { app: 'reporter' },
    ports: [{ port: 80, protocol: 'TCP' }],
  },
  {
    namespace: 'default',
    name: 'backend',
    node: 'node-b',
    ip: '10.244.2.14',
    labels: { app: 'backend' },
    ports: [{ port: 80, protocol: 'TCP' }],
  },
];

export const EXTERNALS: ScenarioExternal[] = [
  { name: 'office', ip: '172.17.2.5', node: 'node-a', ports: [{ port: 80, protocol: 'TCP' }] },
  { name: 'blocked', ip: '172.17.1.5', node: 'node-a', ports: [{ port: 80, protocol: 'TCP' }] },
  {
    name: 'svc',
    ip: '10.0.0.5',
    node: 'node-b',
    ports: [
      { port: 5978, protocol: 'TCP' },
      { port: 5978, protocol: 'UDP' },
      { port: 80, protocol: 'TCP' },
    ],
  },
];

const ok = (
  from: string,
  to: string,
  port: number,
  why: string,
  protocol: LabProtocol = 'TCP',
): Expectation => ({ from, to, port, protocol, allowed: true, why });
const no = (
  from: string,
  to: string,
  port: number,
  why: string,
  protocol: LabProtocol = 'TCP',
): Expectation => ({ from, to, port, protocol, allowed: false, why });

export const EXPECTATIONS: Expectation[] = [
  // team-a: isolated both ways
  ok('team-a-web/web', 'team-a-db/pg', 5432, 'same tenant (cross-node)'),
  ok('team-b-api/api', 'team-a-web/web', 8080, 'team-a allowFrom team-b app=api on 8080 (same node)'),
  no('team-b-jobs/worker', 'team-a-web/web', 8080, 'team-b pod without app=api'),
  no('default/frontend', 'team-a-web/web', 8080, 'not a team-a peer'),
  ok('monitoring/prometheus', 'team-a-web/web', 9090, 'rule allow-prometheus'),
  no('monitoring/prometheus', 'team-a-web/web', 8080, 'allow-prometheus opens 9090 only'),
  ok(
    'team-a-web/web',
    'team-b-api/api',
    8080,
    'team-a allowTo team-b named port http; team-b allowFrom team-a http',
  ),
  ok('team-a-db/pg', 'team-b-jobs/worker', 8080, 'named port http resolves to 8080 on worker'),
  no('team-a-web/web', 'default/frontend', 80, 'team-a egress is Tenant'),
  no('team-a-db/pg', 'ext/svc', 80, 'team-a egress is Tenant'),
  // team-b: ingress isolated, egress open
  ok('team-b-jobs/worker', 'team-b-api/api', 8080, 'same tenant (cross-node)'),
  no('default/backend', 'team-b-api/api', 8080, 'not a team-b peer'),
  ok('team-b-jobs/worker', 'default/frontend', 80, 'team-b egress is Open; frontend is not isolated'),
  // the seed example in `default`
  ok('default/frontend', 'default/db', 6379, 'seed: role=frontend in default'),
  no('default/backend', 'default/db', 6379, 'seed: backend is not role=frontend'),
  ok('analytics/reporter', 'default/db', 6379, 'seed: namespace project=myproject'),
  ok('ext/office', 'default/db', 6379, 'seed: 172.17.0.0/16'),
  no('ext/blocked', 'default/db', 6379, 'seed: except 172.17.1.0/24'),
  no('default/frontend', 'default/db', 80, 'seed: only TCP 6379'),
  ok('default/db', 'ext/svc', 5978, 'seed: egress to 10.0.0.0/24 TCP 5978'),
  no('default/db', 'ext/svc', 5978, 'seed: egress is TCP only', 'UDP'),
  no('default/db', 'ext/svc', 80, 'seed: egress only port 5978'),
  no('default/db', 'default/frontend', 80, 'seed: egress only to 10.0.0.0/24'),
  ok('default/backend', 'default/frontend', 80, 'pods no policy selects are not isolated'),
];
