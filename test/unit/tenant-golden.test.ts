// `softtenant expand` end to end (the built CLI in a child process): output for the samples and
// for conflicts equals the golden files in test/golden/expand/; invalid input prints nothing on
// stdout and exits 1. UPDATE_GOLDEN=1 rewrites the golden files.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from './tenant-fixtures.js';

const GOLDEN = 'test/golden/expand';
const CLUSTER = `${GOLDEN}/input/cluster-namespaces.yaml`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function expand(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, ['dist/operator/cli/main.js', 'expand', ...args], {
    cwd: repoRoot,
    input,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function golden(file: string, actual: string): void {
  const path = resolve(repoRoot, GOLDEN, file);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  expect(actual, `differs from ${GOLDEN}/${file} (UPDATE_GOLDEN=1 rewrites it)`).to.equal(
    readFileSync(path, 'utf8'),
  );
}

describe('softtenant expand (golden)', function () {
  this.timeout(20_000);

  it('samples -> samples.yaml', () => {
    const run = expand(['-f', 'config/samples', '-f', CLUSTER]);
    expect(run.status, run.stderr).to.equal(0);
    golden('samples.yaml', run.stdout);
    golden('samples.stderr', run.stderr);
  });

  it('samples -o json -> samples.json', () => {
    const run = expand(['-f', 'config/samples', '-f', CLUSTER, '-o', 'json']);
    expect(run.status, run.stderr).to.equal(0);
    golden('samples.json', run.stdout);
  });

  it('reads stdin with -f - and gives the same output', () => {
    const files = ['namespaces.yaml', 'team-a.yaml', 'team-b.yaml', 'seed-example.yaml'].map((f) =>
      readFileSync(resolve(repoRoot, 'config/samples', f), 'utf8'),
    );
    const run = expand(['-f', '-', '-f', CLUSTER], files.join('\n---\n'));
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(readFileSync(resolve(repoRoot, GOLDEN, 'samples.yaml'), 'utf8'));
  });

  it('is stable: the same input in another order gives the same bytes', () => {
    const b = expand([
      '-f',
      'config/samples/seed-example.yaml',
      '-f',
      'config/samples/team-b.yaml',
      '-f',
      'config/samples/team-a.yaml',
      '-f',
      'config/samples/namespaces.yaml',
      '-f',
      CLUSTER,
    ]);
    expect(b.status, b.stderr).to.equal(0);
    expect(b.stdout).to.equal(readFileSync(resolve(repoRoot, GOLDEN, 'samples.yaml'), 'utf8'));
  });

  it('conflicts, removals and spec problems -> conflict.yaml and warnings on stderr', () => {
    const run = expand(['-f', `${GOLDEN}/input/conflict.yaml`]);
    expect(run.status, run.stderr).to.equal(0);
    golden('conflict.yaml', run.stdout);
    golden('conflict.stderr', run.stderr);
  });

  it('invalid input: exit 1, nothing on stdout, every object and field named on stderr', () => {
    const run = expand(['-f', `${GOLDEN}/input/invalid.yaml`, '-f', CLUSTER]);
    expect(run.status).to.equal(1);
    expect(run.stdout).to.equal('');
    golden('invalid.stderr', run.stderr);
  });

  it('refuses a rule that can never be generated (names only, rule elsewhere); accepts it with a selector', () => {
    const tenant = (namespaces: unknown): string =>
      JSON.stringify({
        apiVersion: 'tenancy.softtenant.io/v1alpha1',
        kind: 'SoftTenant',
        metadata: { name: 'solo' },
        spec: { namespaces, rules: [{ name: 'web', namespaces: ['elsewhere'], spec: { podSelector: {} } }] },
      });
    const refused = expand(['-f', '-'], tenant({ names: ['mine'] }));
    expect(refused.status, refused.stderr).to.equal(1);
    expect(refused.stdout).to.equal('');
    expect(refused.stderr).to.include(
      'SoftTenant solo (stdin): spec.rules: a rule may name only namespaces listed',
    );
    const accepted = expand(
      ['-f', '-'],
      tenant({ names: ['mine'], selector: { matchLabels: { team: 'x' } } }),
    );
    expect(accepted.status, accepted.stderr).to.equal(0);
    expect(accepted.stderr).to.include('warning: SoftTenant solo: spec.rules[0].namespaces[0]');
  });

  it('usage errors exit 2 with the help; --help exits 0', () => {
    for (const args of [[], ['-o', 'xml', '-f', CLUSTER], ['stray']]) {
      const run = expand(args);
      expect(run.status, args.join(' ')).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.include('usage: softtenant expand');
    }
    const help = expand(['--help']);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.include('-f, --filename');
    expect(help.stdout).to.include('-o, --output');
  });

  it('unreadable or non-YAML input: exit 1 with the reason', () => {
    const missing = expand(['-f', 'no/such/file.yaml']);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.include('no/such/file.yaml');
    const garbage = expand(['-f', '-'], 'a: [unclosed');
    expect(garbage.status).to.equal(1);
    expect(garbage.stderr).to.include('stdin: not valid YAML');
  });
});
