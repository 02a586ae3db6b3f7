import { expect } from 'chai';
import { SyncTrigger } from '../../operator/agent/sync-trigger.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SyncTrigger (one-slot sync requests)', () => {
  it('collapses a burst of requests into one sync', async () => {
    const runs: boolean[] = [];
    const t = new SyncTrigger((full) => {
      runs.push(full);
      return Promise.resolve();
    }, 10);
    for (let i = 0; i < 1000; i++) t.request();
    await wait(30);
    await t.idle();
    expect(runs).to.deep.equal([false]);
    await t.stop();
  });

  it('runs one sync at a time and merges requests made during a sync into exactly one more', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const t = new SyncTrigger(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      await wait(40);
      active--;
    }, 5);
    t.request();
    await wait(15); // first sync is running now
    for (let i = 0; i < 50; i++) t.request();
    await wait(20);
    await t.idle();
    expect(maxActive).to.equal(1);
    expect(runs).to.equal(2);
    await t.stop();
  });

  it('keeps a full-sync request sticky when merged with ordinary requests', async () => {
    const runs: boolean[] = [];
    const t = new SyncTrigger((full) => {
      runs.push(full);
      return Promise.resolve();
    }, 10);
    t.request();
    t.request(true);
    t.request();
    await wait(30);
    await t.idle();
    expect(runs).to.deep.equal([true]);
    await t.stop();
  });

  it('runs nothing after stop', async () => {
    let runs = 0;
    const t = new SyncTrigger(() => {
      runs++;
      return Promise.resolve();
    }, 5);
    await t.stop();
    t.request();
    await wait(20);
    expect(runs).to.equal(0);
  });
});
