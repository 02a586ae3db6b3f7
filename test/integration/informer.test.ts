// The read path both binaries share (operator/kube/informer.ts), driven directly against the real
// API server: the initial list arrives in pages, each item trimmed before it is kept; later
// creates, updates and deletes reach the cache and its listeners; an own write is read back
// before the watch delivers it, and only until then.
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Informer, type CacheEventType, type Cached } from '../../operator/kube/informer.js';
import { requestJson } from '../../operator/kube/raw-request.js';
import { logger } from '../../operator/util/logger.js';
import { eventually } from '../support/eventually.js';
import { createNamespace, deleteObjects, label } from '../support/kube-json.js';

interface Ns extends Cached {
  metadata: {
    name?: string;
    labels?: Record<string, string>;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  trimmed?: boolean;
}

const SELECTOR = 'softtenant-test/informer=yes';
const NAMES = ['inf-a', 'inf-b', 'inf-c', 'inf-d', 'inf-e'];

describe('informer against the real API server', function () {
  let informer: Informer<Ns> | undefined;
  const events: [CacheEventType, string][] = [];
  let trims = 0;
  let pages = 0;
  const kc = new KubeConfig();

  before(function () {
    kc.loadFromDefault();
    for (const n of NAMES) createNamespace(n, { 'softtenant-test/informer': 'yes' });
  });

  after(async function () {
    await informer?.stop();
    deleteObjects('namespace', [...NAMES, 'inf-late']);
  });

  it('lists in pages, trims every item before it is kept, and syncs once', async function () {
    informer = new Informer<Ns>(kc, {
      path: '/api/v1/namespaces',
      labelSelector: SELECTOR,
      pageSize: 2,
      trim: (ns) => {
        trims += 1;
        // Trimming drops what readers do not need: the annotations go, a mark shows it ran.
        delete ns.metadata.annotations;
        ns.trimmed = true;
        return ns;
      },
      log: logger('test'),
    });
    // Count the pages the list needs by asking the server the same way (limit 2, continue).
    let token: string | undefined;
    do {
      const q = new URLSearchParams({
        limit: '2',
        labelSelector: SELECTOR,
        ...(token ? { continue: token } : {}),
      });
      const page = await requestJson<{ metadata?: { continue?: string } }>(
        kc,
        'GET',
        `/api/v1/namespaces?${q}`,
      );
      pages += 1;
      token = page.metadata?.continue || undefined;
    } while (token);
    expect(pages).to.equal(3); // five namespaces in pages of two

    informer.onEvent((type, ns) => events.push([type, ns.metadata.name ?? '']));
    informer.start();
    await informer.synced;
    const listed = informer
      .list()
      .map((n) => n.metadata.name)
      .sort();
    expect(listed).to.deep.equal(NAMES);
    expect(informer.list().every((n) => n.trimmed === true)).to.equal(true);
    expect(trims).to.be.at.least(NAMES.length);
    expect(informer.listCount).to.equal(1);
  });

  it('delivers creates, updates and deletes of selected objects, and only those', async function () {
    createNamespace('inf-late', { 'softtenant-test/informer': 'yes' });
    await eventually(() => expect(informer?.get('inf-late')?.trimmed).to.equal(true));
    label('namespace', 'inf-a', ['softtenant-test/extra=1']);
    await eventually(() =>
      expect(informer?.get('inf-a')?.metadata.labels?.['softtenant-test/extra']).to.equal('1'),
    );
    // Unselecting an object removes it from the cache, as a delete does.
    label('namespace', 'inf-b', ['softtenant-test/informer=no']);
    await eventually(() => expect(informer?.get('inf-b')).to.equal(undefined));
    expect(events).to.deep.include(['ADDED', 'inf-late']);
    expect(events).to.deep.include(['MODIFIED', 'inf-a']);
    expect(events.some(([t, n]) => t === 'DELETED' && n === 'inf-b')).to.equal(true);
  });

  it('reads an own write back at once, and yields to later changes the watch delivers', async function () {
    const response = await requestJson<Ns>(
      kc,
      'PATCH',
      '/api/v1/namespaces/inf-c',
      { metadata: { labels: { mine: 'yes' } } },
      'application/merge-patch+json',
    );
    informer?.noteWritten(response);
    // Read straight after the write, whether or not the watch has delivered it yet.
    expect(informer?.get('inf-c')?.metadata.labels?.mine).to.equal('yes');
    expect(informer?.list().find((n) => n.metadata.name === 'inf-c')?.metadata.labels?.mine).to.equal('yes');
    // Someone else's later change comes through the watch and replaces it.
    label('namespace', 'inf-c', ['mine=no']);
    await eventually(() => expect(informer?.get('inf-c')?.metadata.labels?.mine).to.equal('no'));
    expect(informer?.pendingOwnWrites, 'the watch retired the own write').to.equal(0);
  });

  it('does not remember an own write whose event the watch delivered first (nothing held twice)', async function () {
    const response = await requestJson<Ns>(
      kc,
      'PATCH',
      '/api/v1/namespaces/inf-e',
      { metadata: { labels: { early: 'yes' } } },
      'application/merge-patch+json',
    );
    const rv = response.metadata.resourceVersion;
    await eventually(() => expect(informer?.get('inf-e')?.metadata.resourceVersion).to.equal(rv));
    informer?.noteWritten(response);
    expect(informer?.pendingOwnWrites).to.equal(0);
    expect(informer?.get('inf-e')?.metadata.labels?.early).to.equal('yes');
  });

  it('keeps an own write the watch has not caught up with over an older watched version', async function () {
    const cached = informer?.get('inf-d');
    expect(cached).to.not.equal(undefined);
    // A write whose event cannot have arrived yet: a resourceVersion beyond any the server has
    // handed out, so the watch's events for this object are all older than it.
    informer?.noteWritten({
      ...cached!,
      metadata: {
        ...cached!.metadata,
        labels: { ...cached!.metadata.labels, mine: 'yes' },
        resourceVersion: '999999999999',
      },
    });
    label('namespace', 'inf-d', ['softtenant-test/extra=3']);
    await eventually(() => expect(events).to.deep.include(['MODIFIED', 'inf-d']));
    expect(informer?.get('inf-d')?.metadata.labels?.mine).to.equal('yes');
  });
});
