// How the window probe of the real-node tests and `make bench-enforce` tells what became of
// each attempt (test/nodes/window-classify.ts): parsing the prober's and conntrack's lines,
// matching an attempt with the NEW event of its source port, and folding the classes into an
// address's record (the window ends at the first refusal after the last delivered attempt).
import { expect } from 'chai';
import {
  classify,
  EVENT_GRACE_MS,
  Matcher,
  newRecord,
  parseAttempt,
  parseConntrackEvent,
  type AddressRecord,
  type Attempt,
} from '../nodes/window-classify.js';

const IP = '10.244.1.7';
const at = (sport: number, start: number, outcome: string): Attempt => ({
  ip: IP,
  sport,
  start,
  end: start + 1,
  outcome,
});

describe('window probe: classifying attempts', () => {
  it('parses the prober line and a conntrack NEW event (and nothing else)', () => {
    expect(parseAttempt(`${IP} 10001 1700000000123 1700000000125 refused`)).to.deep.equal({
      ip: IP,
      sport: 10001,
      start: 1700000000123,
      end: 1700000000125,
      outcome: 'refused',
    });
    expect(parseAttempt('garbage')).to.equal(undefined);
    const line =
      '[1796148100.640983]\t    [NEW] tcp      6 120 SYN_SENT src=10.244.1.3 dst=10.244.1.7 sport=10001 dport=8080 [UNREPLIED] src=10.244.1.7 dst=10.244.1.3 sport=8080 dport=10001';
    expect(parseConntrackEvent(line)).to.deep.equal({ t: 1796148100640, dst: IP, sport: 10001 });
    expect(parseConntrackEvent(line.replace('[NEW]', '[DESTROY]'))).to.equal(undefined);
    expect(parseConntrackEvent('NOTICE: Netlink socket buffer size has been set to 1 bytes.')).to.equal(
      undefined,
    );
  });

  it('tells a reset by the pod from a refusal on the way by whether the node forwarded the SYN', () => {
    expect(classify(at(1, 0, 'refused'), true)).to.equal('pod-reset');
    expect(classify(at(1, 0, 'refused'), false)).to.equal('rejected');
    expect(classify(at(1, 0, 'connected'), true)).to.equal('connected');
    expect(classify(at(1, 0, 'timeout'), true)).to.equal('delivered-timeout');
    expect(classify(at(1, 0, 'timeout'), false)).to.equal('timeout');
    expect(classify(at(1, 0, 'ehostunreach'), false)).to.equal('unreachable');
    expect(classify(at(1, 0, 'econnreset'), false)).to.equal('error');
  });

  it('matches events by source port within the attempt, waits for late ones, and ends the window at the last delivery', () => {
    const records = new Map<string, AddressRecord>([[IP, newRecord(IP, 1000)]]);
    const m = new Matcher(records);
    m.attempt(at(10, 1010, 'refused')); // the pod's kernel resets it
    m.delivery({ t: 1011, dst: IP, sport: 10 });
    m.attempt(at(11, 1020, 'refused')); // refused on the way: no event
    m.attempt(at(12, 1030, 'refused')); // its event arrives late (conntrack stamps when it reads)
    m.attempt(at(13, 1040, 'connected')); // through, and its event was lost
    m.attempt(at(14, 1050, 'refused'));
    m.attempt(at(15, 1060, 'refused'));
    m.delivery({ t: 1040, dst: IP, sport: 15 }); // before the attempt started: not this one's
    m.flush(1031 + EVENT_GRACE_MS - 1); // attempt 12 still waits for its event
    expect(records.get(IP)?.outcomes).to.deep.equal({ 'pod-reset': 1, rejected: 1 });
    expect(records.get(IP)?.refusedAt).to.equal(1020);
    m.delivery({ t: 1031 + EVENT_GRACE_MS - 10, dst: IP, sport: 12 });
    m.flush(Infinity);
    const r = records.get(IP) as AddressRecord;
    expect(r.outcomes).to.deep.equal({ 'pod-reset': 2, rejected: 3, connected: 1 });
    expect(m.missedEvents).to.equal(1);
    expect([r.delivered, r.firstDeliveredAt, r.lastDeliveredAt]).to.deep.equal([3, 1010, 1040]);
    expect([r.connections, r.firstConnectedAt]).to.deep.equal([1, 1040]);
    expect(r.refusedAt, 'first refusal after the last delivered attempt').to.equal(1050);
    expect([r.last, r.maxGapMs, r.firstStart]).to.deep.equal(['rejected', 10, 1010]);
  });

  it('dates the first attempt the filters decided, not earlier ones that met no neighbour or no answer', () => {
    const records = new Map<string, AddressRecord>([[IP, newRecord(IP, 1000)]]);
    const m = new Matcher(records);
    m.attempt(at(20, 1001, 'ehostunreach'));
    m.attempt(at(21, 1005, 'timeout'));
    m.attempt(at(22, 1300, 'refused')); // no event: refused by a rule
    m.attempt(at(23, 1310, 'refused'));
    m.flush(Infinity);
    const r = records.get(IP) as AddressRecord;
    expect([r.firstStart, r.firstDecidedAt]).to.deep.equal([1001, 1300]);
    const reached = newRecord('10.244.1.8', 1000);
    records.set(reached.ip, reached);
    m.attempt({ ...at(24, 1400, 'refused'), ip: reached.ip });
    m.delivery({ t: 1400, dst: reached.ip, sport: 24 }); // reset by the pod
    m.flush(Infinity);
    expect(reached.firstDecidedAt).to.equal(1400);
  });

  it('ignores attempts on addresses it does not follow', () => {
    const records = new Map<string, AddressRecord>();
    const m = new Matcher(records);
    m.attempt(at(1, 0, 'connected'));
    m.flush(Infinity);
    expect(records.size).to.equal(0);
    expect(m.missedEvents).to.equal(0);
  });
});
