import { expect } from 'chai';
import { policyKey } from '../../operator/controller/ownership.js';
import { Backoff } from '../../operator/util/backoff.js';
import { canonicalJson } from '../../operator/util/canonical-json.js';
import { errorMessage } from '../../operator/util/errors.js';
import { metadataKey, objectKey } from '../../operator/util/object-key.js';
import { microTime, rfc3339 } from '../../operator/util/time.js';
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

describe('small shared helpers', () => {
  it('errorMessage: an Error’s message, anything else as a string', () => {
    expect(errorMessage(new Error('boom'))).to.equal('boom');
    expect(errorMessage('plain')).to.equal('plain');
    expect(errorMessage(42)).to.equal('42');
  });

  it('rfc3339 gives whole seconds, microTime six fractional digits, both UTC', () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    expect(rfc3339(at)).to.equal('2026-03-04T05:06:07Z');
    expect(microTime(at)).to.equal('2026-03-04T05:06:07.089000Z');
  });

  it('canonicalJson ignores key order and undefined members, not array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } })).to.equal(
      canonicalJson({ a: { d: [2, 1] }, b: 1 }),
    );
    expect(canonicalJson([1, 2])).to.not.equal(canonicalJson([2, 1]));
    expect(canonicalJson(undefined)).to.equal('null');
  });

  it('objectKey puts an object without a namespace in default, for every caller alike', () => {
    expect(objectKey('team-a', 'web')).to.equal('team-a/web');
    expect(metadataKey({ name: 'web' })).to.equal('default/web');
    expect(policyKey({ metadata: { name: 'web' } })).to.equal(objectKey(undefined, 'web'));
  });
});
