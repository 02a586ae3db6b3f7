// Heartbeats and count changes of a node report wake no tenant; what a tenant's status reads
// (programmed generations, errors) and a report coming back after a silence do.
import { expect } from 'chai';
import type { NodeEnforcementStatus } from '../../operator/api/nodeenforcement.js';
import { ReportEventFilter } from '../../operator/controller/report-event-filter.js';

const base: NodeEnforcementStatus = {
  heartbeatSeconds: 10,
  heartbeatTime: '2026-12-01T10:00:00Z',
  chains: 5,
  rules: 20,
  policies: [{ namespace: 'a', name: 'p', uid: 'u1', generation: 1 }],
  errors: [],
};

function report(status: NodeEnforcementStatus, name = 'node-a') {
  return { metadata: { name }, status };
}

describe('operator: which node report events wake tenants', function () {
  it('wakes for the first report of a node, then not for heartbeats or counts', function () {
    const changes = new ReportEventFilter();
    expect(changes.changesEnforcement(report(base), 'ADDED')).to.equal(true);
    expect(
      changes.changesEnforcement(report({ ...base, heartbeatTime: '2026-12-01T10:00:10Z' }), 'MODIFIED'),
    ).to.equal(false);
    expect(
      changes.changesEnforcement(
        report({ ...base, heartbeatTime: '2026-12-01T10:00:20Z', chains: 9, rules: 40 }),
        'MODIFIED',
      ),
    ).to.equal(false);
    expect(changes.changesEnforcement(report(base, 'node-b'), 'ADDED'), 'another node').to.equal(true);
  });

  it('wakes when a programmed generation or an error changes', function () {
    const changes = new ReportEventFilter();
    changes.changesEnforcement(report(base), 'ADDED');
    const newer = { ...base, policies: [{ namespace: 'a', name: 'p', uid: 'u1', generation: 2 }] };
    expect(changes.changesEnforcement(report(newer), 'MODIFIED')).to.equal(true);
    const failing = {
      ...newer,
      errors: [{ namespace: 'a', name: 'p', reason: 'ApplyFailed', message: 'x' }],
    };
    expect(changes.changesEnforcement(report(failing), 'MODIFIED')).to.equal(true);
    expect(changes.changesEnforcement(report(failing), 'MODIFIED'), 'the same again').to.equal(false);
  });

  it('wakes when a report comes back after more than two heartbeat periods of silence', function () {
    const changes = new ReportEventFilter();
    changes.changesEnforcement(report(base), 'ADDED');
    expect(
      changes.changesEnforcement(report({ ...base, heartbeatTime: '2026-12-01T10:00:20Z' }), 'MODIFIED'),
    ).to.equal(false);
    expect(
      changes.changesEnforcement(report({ ...base, heartbeatTime: '2026-12-01T10:01:00Z' }), 'MODIFIED'),
    ).to.equal(true);
  });

  it('wakes on deletion, and treats the next report of that node as new', function () {
    const changes = new ReportEventFilter();
    changes.changesEnforcement(report(base), 'ADDED');
    expect(changes.changesEnforcement(report(base), 'DELETED')).to.equal(true);
    expect(changes.changesEnforcement(report(base), 'ADDED')).to.equal(true);
  });
});
