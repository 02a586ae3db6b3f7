// `softtenant render` as users run it: a real process, real files in a temporary directory.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const main = fileURLToPath(new URL('../../operator/cli/main.js', import.meta.url));
const seedDir = fileURLToPath(new URL('../../../test/golden/render/seed/', import.meta.url));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function softtenant(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], {
      env: { ...process.env, LOG_LEVEL: 'error' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('softtenant render (CLI)', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'stn-render-'));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('writes the three restore files for the seed example, equal to the golden files', async () => {
    const out = path.join(tmp, 'out');
    const r = await softtenant(
      'render',
      '--snapshot',
      path.join(seedDir, 'snapshot.yaml'),
      '--node',
      'node-a',
      '--out',
      out,
    );
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('1 policies').and.contain('ipset.restore');
    for (const f of ['ipset.restore', 'iptables.restore', 'ip6tables.restore']) {
      expect(readFileSync(path.join(out, f), 'utf8')).to.equal(readFileSync(path.join(seedDir, f), 'utf8'));
    }
  });

  it('--help prints usage and exits 0; missing flags exit 2', async () => {
    const help = await softtenant('render', '--help');
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('--snapshot').and.contain('iptables-restore --noflush');
    const missing = await softtenant('render', '--node', 'n');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('missing --snapshot, --out');
  });

  it('bad input: names the object, exits 1, writes nothing', async () => {
    const cases: [string, RegExp][] = [
      [
        'kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: p, namespace: a}\nspec: {}\n',
        /NetworkPolicy a\/p: spec.podSelector is missing/,
      ],
      [
        'kind: Pod\nmetadata: {name: x, namespace: a}\nspec: {containers: [{name: c, ports: [{name: http}]}]}\n',
        /Pod a\/x: spec.containers\[0\].ports\[0\] needs a numeric containerPort/,
      ],
      [
        'kind: Pod\nmetadata: {name: x, namespace: a}\nspec: {nodeName: n, containers: []}\nstatus: {podIP: 10.0.0.1}\n---\n' +
          'kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}]}]}\n',
        /NetworkPolicy a\/p: spec.ingress\[0\].from\[0\].ipBlock: except 11.0.0.0\/8 is not a strict subset/,
      ],
      ['items: [', /not valid YAML/],
    ];
    for (const [yaml, message] of cases) {
      const file = path.join(tmp, 'bad.yaml');
      writeFileSync(file, yaml);
      const out = path.join(tmp, 'bad-out');
      const r = await softtenant('render', '-f', file, '-n', 'n', '-o', out);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(message);
      expect(() => readFileSync(path.join(out, 'iptables.restore'))).to.throw();
    }
  });
});
