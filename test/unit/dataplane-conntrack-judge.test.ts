import { expect } from 'chai';
import { flowJudgeFromModel } from '../../operator/dataplane/conntrack-judge.js';
import type { TrackedFlow } from '../../operator/dataplane/conntrack.js';
import { deleteLines, deniedFlows, forwardView, parseConntrack } from '../../operator/dataplane/conntrack.js';
import { addressesOf } from '../../operator/dataplane/conntrack-node-addresses.js';
import { buildNodeModel } from '../../operator/netpol/model.js';
import { netpol, ns, pod } from '../support/lab-cluster.js';

describe('dataplane conntrack judge', () => {
  const model = buildNodeModel({
    node: 'n1',
    namespaces: [ns('default')],
    pods: [
      pod('default', 'db', 'n1', '10.244.1.10', { role: 'db' }),
      pod('default', 'fe', 'n1', '10.244.1.11', { role: 'frontend' }),
      pod('default', 'remote', 'n2', '10.244.2.10', { role: 'frontend' }),
    ],
    policies: [
      netpol('default', 'db-in', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 6379 }] },
        ],
      }),
    ],
  });
  const judge = flowJudgeFromModel(model);
  const flow = (src: string, dst: string, dport: number, protocol = 'tcp') => ({
    protocol,
    src,
    dst,
    sport: 40000,
    dport,
  });

  it('judges only flows with a local pod at one end', () => {
    expect(judge.concerns(flow('10.244.1.11', '10.244.1.10', 6379))).to.equal(true);
    expect(judge.concerns(flow('10.244.2.10', '10.244.1.10', 6379))).to.equal(true);
    expect(judge.concerns(flow('10.244.2.10', '10.244.2.11', 6379)), 'remote to remote').to.equal(false);
  });

  it('allows what the policies allow and denies the rest, by protocol and port', () => {
    expect(judge.allows(flow('10.244.1.11', '10.244.1.10', 6379))).to.equal(true);
    expect(judge.allows(flow('10.244.2.10', '10.244.1.10', 6379)), 'remote frontend').to.equal(true);
    expect(judge.allows(flow('10.244.1.11', '10.244.1.10', 80)), 'other port').to.equal(false);
    expect(judge.allows(flow('10.244.1.11', '10.244.1.10', 6379, 'udp')), 'UDP').to.equal(false);
    expect(judge.allows(flow('172.17.1.5', '10.244.1.10', 6379)), 'not a peer').to.equal(false);
    expect(judge.allows(flow('10.244.1.10', '10.244.1.11', 80)), 'db egress is not isolated').to.equal(true);
  });
});

describe('dataplane conntrack cut: what is judged and how it is deleted', () => {
  const model = buildNodeModel({
    node: 'n1',
    namespaces: [ns('default')],
    pods: [
      pod('default', 'db', 'n1', '10.244.1.10', { role: 'db' }),
      pod('default', 'fe', 'n1', '10.244.1.11', { role: 'frontend' }),
      pod('default', 'other', 'n1', '10.244.1.12', { role: 'other' }),
    ],
    policies: [
      netpol('default', 'db-in', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 6379 }] },
        ],
      }),
      netpol('default', 'other-out', {
        podSelector: { matchLabels: { role: 'other' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }] }],
      }),
    ],
  });
  // The node's bridge address, its uplink and an IPv6 address (as os.networkInterfaces() gives them).
  const nodeAddresses = addressesOf({
    br0: [{ address: '10.244.1.1' }, { address: 'fd00:10:244:1:0::1' }, { address: 'fe80::1%br0' }],
    eth0: [{ address: '10.250.0.11' }],
  });
  const judge = flowJudgeFromModel(model, nodeAddresses);
  const line = (l: string): TrackedFlow => {
    const [f] = parseConntrack(l);
    if (!f) throw new Error(`not a conntrack line: ${l}`);
    return f;
  };
  const probe = line(
    'tcp 6 431999 ESTABLISHED src=10.244.1.1 dst=10.244.1.10 sport=51000 dport=8080 src=10.244.1.10 dst=10.244.1.1 sport=8080 dport=51000 [ASSURED] mark=0 use=1',
  );
  const intruder = (sport: number, state = 'ESTABLISHED'): TrackedFlow =>
    line(
      `tcp 6 431999 ${state} src=10.244.1.12 dst=10.244.1.10 sport=${sport} dport=80 src=10.244.1.10 dst=10.244.1.12 sport=80 dport=${sport} [ASSURED] mark=0 use=1`,
    );
  // A pod -> a Service address (port 80), DNATed by kube-proxy to a backend: other -> fe:8080 is
  // denied (other's egress allows db only), fe -> db:6379 allowed; neither pod's policy knows
  // the Service address.
  const viaService = (src: string, backend: string, port: number): TrackedFlow =>
    line(
      `tcp 6 431999 ESTABLISHED src=${src} dst=10.96.0.20 sport=40001 dport=80 src=${backend} dst=${src} sport=${port} dport=40001 [ASSURED] mark=0 use=1`,
    );

  it('reads the node addresses canonically, without the scope of a link-local one', () => {
    expect([...nodeAddresses].sort()).to.deep.equal([
      '10.244.1.1',
      '10.250.0.11',
      'fd00:10:244:1::1',
      'fe80::1',
    ]);
  });

  it('never judges a flow with one of the node addresses at an end (kubelet probes, host-network pods)', () => {
    expect(judge.concerns(forwardView(probe)), 'node -> isolated pod').to.equal(false);
    expect(flowJudgeFromModel(model).concerns(forwardView(probe)), 'without the addresses').to.equal(true);
    const back = { ...probe, src: '10.244.1.10', dst: '10.250.0.11', sport: 8080, dport: 443 };
    expect(judge.concerns(back), 'pod -> node uplink').to.equal(false);
    expect(deniedFlows([probe], judge).denied).to.deep.equal([]);
  });

  it('judges a DNATed flow by where it was forwarded (the reply source), not by the Service address', () => {
    expect(forwardView(viaService('10.244.1.12', '10.244.1.11', 8080))).to.include({
      dst: '10.244.1.11',
      dport: 8080,
    });
    expect(
      deniedFlows([viaService('10.244.1.11', '10.244.1.10', 6379)], judge).denied,
      'fe to db',
    ).to.have.length(0);
    expect(
      deniedFlows([viaService('10.244.1.12', '10.244.1.11', 8080)], judge).denied,
      'other to fe',
    ).to.have.length(1);
  });

  it('skips closed TCP entries, and deletes by verdict key: one line for every source port', () => {
    const flows = [
      probe,
      intruder(41000),
      intruder(41001),
      intruder(41002, 'TIME_WAIT'),
      viaService('10.244.1.12', '10.244.1.11', 8080),
    ];
    const { judged, denied } = deniedFlows(flows, judge);
    expect(judged).to.equal(3);
    expect(denied.map((f) => f.sport)).to.deep.equal([41000, 41001, 40001]);
    expect(deleteLines(denied)).to.deep.equal([
      '-D -f ipv4 -p tcp --orig-src 10.244.1.12 --reply-src 10.244.1.10 --reply-port-src 80',
      '-D -f ipv4 -p tcp --orig-src 10.244.1.12 --reply-src 10.244.1.11 --reply-port-src 8080',
    ]);
    expect(deniedFlows([intruder(41002, 'TIME_WAIT')], judge).denied, 'only closed entries').to.deep.equal(
      [],
    );
  });
});
