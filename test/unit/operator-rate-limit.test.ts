import { expect } from 'chai';
import { TokenBucket } from '../../operator/util/token-bucket.js';

describe('client-side rate limit (token bucket)', () => {
  it('lets a burst through at once, then one request per 1/qps seconds', async () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    const granted: number[] = [];
    for (let i = 0; i < 5; i++) void bucket.take().then(() => granted.push(i));
    await new Promise<void>((r) => setImmediate(r));
    expect(granted, 'the burst').to.deep.equal([0, 1, 2]);
    now = 50; // half a token
    await new Promise((r) => setTimeout(r, 120));
    expect(granted.length, 'half a token is not a request').to.be.at.most(3);
    now = 100;
    await new Promise((r) => setTimeout(r, 120));
    expect(granted).to.deep.equal([0, 1, 2, 3]);
    now = 1_000;
    await new Promise((r) => setTimeout(r, 120));
    expect(granted).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('refuses a limit that would never grant a request', () => {
    expect(() => new TokenBucket(0, 10)).to.throw('qps must be > 0');
    expect(() => new TokenBucket(5, 0)).to.throw('burst >= 1');
  });
});

describe('token bucket: tryTake (the spam filter)', () => {
  it('takes a token only when one is there, and is full again after burst/qps seconds', () => {
    let now = 0;
    const bucket = new TokenBucket(1 / 300, 2, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).to.deep.equal([true, true, false]);
    expect(bucket.isFull()).to.equal(false);
    now = 300_000;
    expect(bucket.tryTake()).to.equal(true);
    expect(bucket.tryTake()).to.equal(false);
    now = 900_000;
    expect(bucket.isFull()).to.equal(true);
  });
});
