import { expect } from 'chai';
import { flowJudgeFromModel } from '../../operator/dataplane/conntrack-judge.js';
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
