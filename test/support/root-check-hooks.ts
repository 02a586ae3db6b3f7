// Mocha root hooks for the dataplane suite: it needs root and the netfilter tools; say so
// plainly instead of failing obscurely in the first test.
import { execFileSync } from 'node:child_process';

export const mochaHooks = {
  beforeAll(): void {
    if (process.getuid?.() !== 0) throw new Error('dataplane tests need root (network namespaces, iptables)');
    for (const tool of ['ip', 'iptables-restore', 'ipset', 'conntrack']) {
      try {
        execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      } catch {
        throw new Error(`dataplane tests need '${tool}' (run 'make deps')`);
      }
    }
  },
};
