import { expect } from 'chai';
import { WorkQueue } from '../../operator/controller/queue.js';

const noJitter = { baseDelayMs: 20, maxDelayMs: 80, random: (): number => 0.5 };

describe('controller work queue', () => {
  it('merges repeated adds of a waiting key into one item, in first-come order', async () => {
    const q = new WorkQueue(noJitter);
    for (const k of ['a', 'b', 'a', 'a', 'c', 'b']) q.add(k);
    expect(q.length).to.equal(3);
    expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(['a', 'b', 'c']);
    expect(q.length).to.equal(0);
  });

  it('never hands out a key that is being processed; an add meanwhile runs it once more afterwards', async () => {
    const q = new WorkQueue(noJitter);
    q.add('a');
    const key = await q.get();
    q.add('a');
    q.add('a');
    expect(q.length, 'not queued while processing').to.equal(0);
    q.add('b');
    expect(await q.get()).to.equal('b');
    q.done('b');
    q.done(key as string);
    expect(q.length).to.equal(1);
    expect(await q.get()).to.equal('a');
    q.done('a');
    expect(q.length).to.equal(0);
  });

  it('hands a key straight to a waiting worker', async () => {
    const q = new WorkQueue(noJitter);
    const pending = q.get();
    q.add('x');
    expect(await pending).to.equal('x');
    q.add('x');
    expect(q.length).to.equal(0);
  });

  it('backs off failed keys exponentially up to the cap, and forgets after success', () => {
    const q = new WorkQueue(noJitter);
    const delays = [1, 2, 3, 4, 5].map(() => q.addRateLimited('a'));
    expect(delays).to.deep.equal([20, 40, 80, 80, 80]);
    expect(q.failuresOf('a')).to.equal(5);
    q.forget('a');
    expect(q.failuresOf('a')).to.equal(0);
    expect(q.addRateLimited('a')).to.equal(20);
    q.shutDown();
  });

  it('re-queues a failed key after its delay', async () => {
    const q = new WorkQueue(noJitter);
    const started = Date.now();
    q.addRateLimited('slow');
    expect(q.length).to.equal(0);
    expect(await q.get()).to.equal('slow');
    expect(Date.now() - started).to.be.at.least(15);
  });

  it('on shutdown releases idle workers, drops waiting keys and ignores new ones', async () => {
    const q = new WorkQueue(noJitter);
    const idle = q.get();
    q.shutDown();
    expect(await idle).to.equal(undefined);
    q.add('late');
    q.addRateLimited('late');
    expect(q.length).to.equal(0);
    expect(await q.get()).to.equal(undefined);
  });
});

describe('controller work queue: delayed adds', () => {
  it('keeps the earlier of two pending delays for one key', async () => {
    const q = new WorkQueue(noJitter);
    q.addAfter('a', 5_000);
    const started = Date.now();
    q.addAfter('a', 20);
    expect(await q.get()).to.equal('a');
    expect(Date.now() - started).to.be.below(2_000);
    q.done('a');
    q.addAfter('b', 20);
    q.addAfter('b', 5_000);
    expect(await q.get()).to.equal('b');
    q.shutDown();
  });
});
