import { expect } from 'chai';
import { Backoff } from '../../operator/util/backoff.js';
import { parseDuration } from '../../operator/util/duration.js';
import { dumpYaml, parseManifests } from '../../operator/util/manifests.js';

describe('parseDuration', () => {
  it('parses Kubernetes-style durations', () => {
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('30s')).to.equal(30_000);
    expect(parseDuration('5m')).to.equal(300_000);
    expect(parseDuration('1h')).to.equal(3_600_000);
    expect(parseDuration('1m30s')).to.equal(90_000);
  });
  it('rejects malformed input with a clear message', () => {
    for (const bad of ['', '5', 'five minutes', '5m garbage', 'm5']) {
      expect(() => parseDuration(bad), bad).to.throw(/invalid duration/);
    }
  });
});

describe('Backoff', () => {
  it('grows exponentially up to the cap and resets', () => {
    const b = new Backoff(100, 1000, () => 0.5); // no jitter at 0.5
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).to.deep.equal([100, 200, 400, 800, 1000]);
    b.reset();
    expect(b.next()).to.equal(100);
  });
  it('jitters within +-20%', () => {
    expect(new Backoff(1000, 10_000, () => 0).next()).to.equal(800);
    expect(new Backoff(1000, 10_000, () => 1).next()).to.equal(1200);
  });
});

describe('parseManifests', () => {
  it('flattens multi-document YAML and kind: List', () => {
    const text = [
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}',
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: b}}\n- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: b}}',
      '',
    ].join('\n---\n');
    const objs = parseManifests(text);
    expect(objs.map((o) => `${o.kind}/${o.metadata?.name}`)).to.deep.equal([
      'Namespace/a',
      'Namespace/b',
      'Pod/p',
    ]);
  });
  it('names the document when an object has no kind', () => {
    expect(() => parseManifests('metadata: {name: x}', 'f.yaml')).to.throw(
      /f\.yaml document 1: object has no kind/,
    );
  });
  it('reports YAML syntax errors with the source', () => {
    expect(() => parseManifests('a: [', 'bad.yaml')).to.throw(/bad\.yaml: not valid YAML/);
  });
  it('dumps with sorted keys so output is stable', () => {
    expect(dumpYaml([{ b: 1, a: { d: 2, c: 3 } }])).to.equal('a:\n  c: 3\n  d: 2\nb: 1\n');
  });
});
