#!/usr/bin/env node
// `softtenant` — one binary, one subcommand per job. Subcommands load lazily so that
// `softtenant expand` does not pay for the operator runtime.
import { logger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';

interface Subcommand {
  summary: string;
  load: () => Promise<{ run: (args: string[]) => Promise<number> }>;
}

const subcommands: Record<string, Subcommand> = {
  operator: { summary: 'run the operator (kubeconfig or in-cluster)', load: () => import('./operator.js') },
  agent: {
    summary: 'run the node agent (--node or NODE_NAME); --cleanup removes its rules',
    load: () => import('./agent.js'),
  },
  expand: {
    summary: 'print what the operator would write for SoftTenants and Namespaces (-f FILE)',
    load: () => import('./expand.js'),
  },
  render: {
    summary: 'write ipset/iptables-restore files for a node from a snapshot',
    load: () => import('./render.js'),
  },
};

function usage(): string {
  const lines = Object.entries(subcommands).map(([name, s]) => `  ${name.padEnd(10)} ${s.summary}`);
  return `usage: softtenant <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nRun 'softtenant <command> --help' for a command's flags.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const sub = subcommands[name];
  if (!sub) {
    process.stderr.write(`softtenant: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await sub.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    logger('cli').error('command failed', { error: errorMessage(err) });
    process.stderr.write(`softtenant: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
