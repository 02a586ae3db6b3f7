import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../support/controlplane.js';

function operatorCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const res = spawnSync(
    process.execPath,
    [join(repoRoot, 'dist/operator/cli/main.js'), 'operator', ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: '/nonexistent/kubeconfig' },
      timeout: 10_000,
    },
  );
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('softtenant operator (flags)', () => {
  it('--help prints the flags and exits 0', () => {
    const res = operatorCli(['--help']);
    expect(res.code).to.equal(0);
    expect(res.stdout)
      .to.include('--kubeconfig PATH')
      .and.include('--resync-period DURATION')
      .and.include('default 5m');
  });

  it('rejects a bad duration, a non-positive one and unknown flags with exit code 2 and the usage', () => {
    for (const args of [['--resync-period', 'soon'], ['--resync-period', '0s'], ['--frobnicate']]) {
      const res = operatorCli(args);
      expect(res.code, args.join(' ')).to.equal(2);
      expect(res.stderr).to.include('usage: softtenant operator');
    }
  });
});
