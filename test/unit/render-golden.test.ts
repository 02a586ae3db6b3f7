// Golden files: for each test/golden/render/<case>/ (snapshot.yaml, node), the three restore
// files (ipsets of both families, IPv4 rules, IPv6 rules) must match byte for byte. UPDATE_GOLDEN=1 rewrites them; review the diff before committing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { renderNode } from '../../operator/dataplane/render-node.js';
import { renderIpsetRestore, renderIptablesRestore } from '../../operator/dataplane/render-text.js';
import { snapshotFromObjects } from '../../operator/netpol/snapshot.js';
import { parseManifests } from '../../operator/util/manifests.js';

export const goldenRoot = fileURLToPath(new URL('../../../test/golden/render/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

describe('render: golden files', () => {
  const cases = readdirSync(goldenRoot)
    .filter((d) => existsSync(path.join(goldenRoot, d, 'snapshot.yaml')))
    .sort();

  it('has the seed example among its cases', () => {
    expect(cases).to.include('seed');
  });

  for (const name of cases) {
    it(`${name}: ipset.restore, iptables.restore and ip6tables.restore`, () => {
      const dir = path.join(goldenRoot, name);
      const node = readFileSync(path.join(dir, 'node'), 'utf8').trim();
      const objects = snapshotFromObjects(
        parseManifests(readFileSync(path.join(dir, 'snapshot.yaml'), 'utf8'), `${name}/snapshot.yaml`),
      );
      const result = renderNode(objects, node);
      expect(result.problems).to.deep.equal([]);
      const outputs: [string, string][] = [
        ['ipset.restore', renderIpsetRestore(result.ruleset, result.ruleset6)],
        ['iptables.restore', renderIptablesRestore(result.ruleset)],
        ['ip6tables.restore', renderIptablesRestore(result.ruleset6)],
      ];
      for (const [file, text] of outputs) {
        const golden = path.join(dir, file);
        if (update) writeFileSync(golden, text);
        expect(existsSync(golden), `${golden} missing (run with UPDATE_GOLDEN=1)`).to.equal(true);
        expect(text).to.equal(readFileSync(golden, 'utf8'));
      }
    });
  }
});
