// The seed's NetworkPolicy (default/test-network-policy, role=db) on a two-node lab, each of its
// six statements shown by packets. The snapshot is hack/lab-seed-snapshot.yaml, the file the
// demo uses. Three ways to program the nodes: the apply edge on nft, on legacy, and the
// `softtenant render` files applied by hand (ipset restore, then iptables-restore --noflush) to
// fresh node namespaces, as the render's help text promises.
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run as renderCli } from '../../operator/cli/render.js';
import type { IptablesBackend } from '../../operator/dataplane/backend.js';
import type { SnapshotObjects } from '../../operator/netpol/snapshot.js';
import { snapshotFromObjects } from '../../operator/netpol/snapshot.js';
import { parseManifests } from '../../operator/util/manifests.js';
import { cleanupStaleLabs } from '../lab/build.js';
import { labSpecFromSnapshot } from '../lab/snapshot.js';
import type { LabExternalSpec, LabPort } from '../lab/spec.js';
import type { Lab, ProbeCell } from '../support/lab.js';
import { allCells, expectMatrix, pathOf, sh, startLab } from '../support/lab.js';
import { ClusterState, LabDataplanes } from '../support/lab-cluster.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const snapshotFile = path.join(root, 'hack/lab-seed-snapshot.yaml');

const db = 'default/db';
const frontend = 'default/frontend'; // n1, same node as db
const frontend2 = 'default/frontend-2'; // n2
const otherFrontend = 'other/frontend'; // role=frontend, but not in default
const api = 'myproject/api'; // n1, namespace project=myproject
const worker = 'myproject/worker'; // n2, namespace project=myproject
const defaultPlain = 'default/plain';
const otherPlain = 'other/plain';
const externals: LabExternalSpec[] = [
  { name: 'x1', ip: '172.17.1.5', node: 'n1' }, // in the except
  { name: 'x1b', ip: '172.17.1.200', node: 'n2' }, // in the except, other node
  { name: 'x2', ip: '172.17.2.5', node: 'n2' }, // in the block
  { name: 'x3', ip: '172.17.200.9', node: 'n1' }, // in the block
  { name: 'svc', ip: '10.0.0.5', node: 'n2' }, // egress target
  { name: 'svc2', ip: '10.0.0.77', node: 'n1' }, // egress target
  { name: 'near', ip: '10.0.1.5', node: 'n1' }, // just outside 10.0.0.0/24
  { name: 'far', ip: '192.168.7.5', node: 'n1' },
];
const tcp = (port: number): LabPort => ({ port, protocol: 'TCP' });
const udp = (port: number): LabPort => ({ port, protocol: 'UDP' });
const servePorts = [tcp(80), tcp(6379), tcp(5978), udp(6379), udp(5978)];
const pods = [db, frontend, otherFrontend, api, frontend2, defaultPlain, worker, otherPlain];
const ext = (n: string): string => `ext/${n}`;
const allExt = externals.map((e) => ext(e.name));

function loadSnapshot(text: string): SnapshotObjects {
  return snapshotFromObjects(parseManifests(text, snapshotFile));
}

/** The six statements; `lab()` is the lab programmed one way or another. */
function statements(lab: () => Lab): void {
  const check = async (
    cells: ProbeCell[],
    expected: (c: ProbeCell) => boolean,
    label: string,
  ): Promise<void> => {
    const l = lab();
    const results = await l.probe(cells);
    expectMatrix(l, results, expected, label);
  };

  it('1. it isolates only role=db pods in default, for ingress and egress', async () => {
    // Every other pod still takes anything from anyone; db takes and sends almost nothing.
    await check(
      allCells([...pods, ...allExt], pods, [tcp(80), udp(6379)]),
      (c) => c.to !== db && c.from !== db,
      'only db is isolated',
    );
    await check(
      allCells([db], [...pods, ...allExt], [tcp(80), udp(5978)]),
      () => false,
      'db is isolated (egress)',
    );
  });

  it('2. ingress to db only on TCP 6379, even from allowed peers', async () => {
    await check(
      allCells(
        [frontend, frontend2, api, worker, ext('x2'), ext('x3')],
        [db],
        [tcp(6379), udp(6379), tcp(5978), tcp(80)],
      ),
      (c) => c.protocol === 'TCP' && c.port === 6379,
      'ports',
    );
  });

  it('3. role=frontend pods of default are allowed, on the same node and across nodes; elsewhere not', async () => {
    const l = lab();
    expect(pathOf(l, { from: frontend, to: db, port: 6379, protocol: 'TCP' })).to.equal('same-node');
    expect(pathOf(l, { from: frontend2, to: db, port: 6379, protocol: 'TCP' })).to.equal('cross-node');
    await check(
      allCells([frontend, frontend2, otherFrontend], [db], [tcp(6379)]),
      (c) => c.from !== otherFrontend,
      'frontends',
    );
  });

  it('4. pods of project=myproject namespaces are allowed; other pods are not', async () => {
    await check(
      allCells([api, worker, defaultPlain, otherPlain], [db], [tcp(6379)]),
      (c) => c.from === api || c.from === worker,
      'namespaces',
    );
  });

  it('5. addresses in 172.17.0.0/16 are allowed except 172.17.1.0/24; others are not', async () => {
    await check(
      allCells(allExt, [db], [tcp(6379)]),
      (c) => c.from === ext('x2') || c.from === ext('x3'),
      'ipBlock',
    );
  });

  it('6. db may send only to 10.0.0.0/24 on TCP 5978', async () => {
    await check(
      allCells([db], [...allExt, ...pods], [tcp(5978), udp(5978), tcp(6379), tcp(80)]),
      (c) => (c.to === ext('svc') || c.to === ext('svc2')) && c.protocol === 'TCP' && c.port === 5978,
      'egress',
    );
  });
}

describe('dataplane: the seed NetworkPolicy example, statement by statement', function () {
  this.timeout(120_000);
  let snapshot: SnapshotObjects;

  before(async () => {
    await cleanupStaleLabs();
    snapshot = loadSnapshot(await readFile(snapshotFile, 'utf8'));
  });

  for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
    describe(`programmed by the apply edge (${backend})`, () => {
      let lab: Lab | undefined;
      before(async function () {
        this.timeout(60_000);
        lab = await startLab(labSpecFromSnapshot(snapshot.pods, { externals, servePorts }));
        const planes = await LabDataplanes.open(lab, backend);
        await planes.program(new ClusterState(snapshot.namespaces, snapshot.pods, snapshot.policies));
      });
      after(async () => {
        await lab?.down();
      });
      statements(() => lab as Lab);
    });
  }

  describe('programmed from `softtenant render` files, applied by hand to fresh node namespaces', () => {
    let lab: Lab | undefined;
    let dir: string | undefined;
    before(async function () {
      this.timeout(60_000);
      lab = await startLab(labSpecFromSnapshot(snapshot.pods, { externals, servePorts }));
      dir = await mkdtemp(path.join(tmpdir(), 'softtenant-seed-render-'));
      for (const node of lab.plan.nodes) {
        const out = path.join(dir, node.name);
        const code = await renderCli(['--snapshot', snapshotFile, '--node', node.name, '--out', out]);
        expect(code, `render for ${node.name}`).to.equal(0);
        await sh(
          lab.nodeRunner(node.name),
          `ipset restore < '${out}/ipset.restore' && iptables-restore --noflush < '${out}/iptables.restore'`,
        );
      }
    });
    after(async () => {
      await lab?.down();
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    statements(() => lab as Lab);
  });
});
