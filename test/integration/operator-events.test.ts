// The operator's Events against the real API server, through the production write path
// (KubeTenantClient on raw requests) and the recorder: an Event arrives, a repeat becomes the
// series of the Event sent first (PATCH, not a second Event), and a burst of Events on their own
// budget neither takes the process's request tokens nor makes a status write wait.
import { expect } from 'chai';
import type { SoftTenant } from '../../operator/api/softtenant.js';
import { EventRecorder } from '../../operator/controller/recorder.js';
import { loadKubeConfig } from '../../operator/kube/config.js';
import { OperatorCaches } from '../../operator/kube/operator-caches.js';
import { limitRequests, requestJson } from '../../operator/kube/raw-request.js';
import { patchStatus } from '../../operator/kube/softtenants.js';
import { KubeTenantClient } from '../../operator/kube/tenant-client.js';
import { TokenBucket } from '../../operator/util/token-bucket.js';
import { eventually } from '../support/eventually.js';
import { deleteObjects, installSoftTenantCrd, tenantEvents, type EventView } from '../support/kube-json.js';
import { applyTenant, softTenant } from '../support/softtenant-fixtures.js';

type SeriesView = EventView & { series?: { count: number; lastObservedTime: string } };

const TENANT = 'ev-budget';

describe('operator Events on the real API server: series and their own budget', function () {
  this.timeout(120_000);
  let kc: ReturnType<typeof loadKubeConfig>;
  let client: KubeTenantClient;
  let tenant: SoftTenant;

  const readTenant = (): Promise<SoftTenant> =>
    requestJson<SoftTenant>(kc, 'GET', `/apis/tenancy.softtenant.io/v1alpha1/softtenants/${TENANT}`);

  before(async () => {
    // The root hook has set KUBECONFIG to the control plane by now.
    kc = loadKubeConfig(undefined);
    installSoftTenantCrd();
    applyTenant(softTenant(TENANT, { namespaces: { names: [`${TENANT}-a`] } }));
    tenant = await readTenant();
    // Only the write path is used: the caches are never started.
    client = new KubeTenantClient(kc, new OperatorCaches(kc, { reportsServed: false }));
  });

  after(() => {
    limitRequests(undefined);
    deleteObjects('softtenant', [TENANT]);
  });

  it('creates an Event once and counts its repeats in the series of that Event', async () => {
    const recorder = new EventRecorder(client);
    const warning = {
      tenant,
      type: 'Warning' as const,
      reason: 'SeriesProbe',
      action: 'Reconcile',
      note: 'the same failure, three times',
    };
    recorder.record(warning);
    await recorder.idle();
    recorder.record(warning);
    recorder.record(warning);
    await recorder.idle();
    const probe = (): SeriesView[] =>
      (tenantEvents(TENANT, tenant.metadata.uid) as SeriesView[]).filter((e) => e.reason === 'SeriesProbe');
    // The first repeat turns it into a series at once; the later one is counted, not sent yet.
    let events = probe();
    expect(events).to.have.length(1);
    expect(events[0].series?.count).to.equal(2);
    expect(events[0].note).to.equal('the same failure, three times');
    // Closing (as the operator does on shutdown) sends the count the API server does not have.
    await recorder.close();
    events = probe();
    expect(events).to.have.length(1);
    expect(events[0].series?.count).to.equal(3);
    expect(events[0].series?.lastObservedTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('sends a burst of Events on their own budget while status writes go through at once', async () => {
    // A small process limit, as the operator's --kube-api-qps: 5 requests a second, burst 5.
    limitRequests(new TokenBucket(5, 5));
    const burst = 120;
    // The Events' own budget: 20 a second, so the burst takes about six seconds to drain.
    const recorder = new EventRecorder(client, {
      budget: new TokenBucket(20, 20),
      spamBurst: 1000,
    });
    for (let i = 0; i < burst; i++) {
      recorder.record({ tenant, type: 'Normal', reason: 'BurstProbe', action: 'Probe', note: `event ${i}` });
    }
    // Five status writes right behind the burst: the process's burst of five, untouched by the
    // Events. Had the Events shared the process limit, these would wait for 120 Events at 5/s.
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      tenant = await patchStatus(kc, tenant, { observedGeneration: i + 1 });
    }
    const statusMs = Date.now() - started;
    const createdMeanwhile = recorder.stats().created;
    expect(createdMeanwhile, 'the Events were still going out').to.be.below(burst);
    expect(statusMs, 'the status writes did not wait behind the Events').to.be.below(5_000);
    await recorder.idle();
    expect(recorder.stats()).to.include({ created: burst, dropped: 0, failed: 0 });
    await eventually(
      () => {
        const arrived = tenantEvents(TENANT, tenant.metadata.uid).filter((e) => e.reason === 'BurstProbe');
        expect(arrived).to.have.length(burst);
      },
      { timeoutMs: 30_000 },
    );
    await recorder.close();
  });
});
