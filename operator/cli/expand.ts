// `softtenant expand`: what the operator would write for some SoftTenants and Namespaces,
// without a cluster. Reads files, directories or stdin; prints to stdout only when the whole
// input is valid, so a pipeline never consumes half an answer.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expandTenants } from '../tenant/expand.js';
import { collectInput, type SourcedObject } from '../tenant/input.js';
import {
  expansionDocuments,
  expansionSummary,
  expansionWarnings,
  renderJson,
  renderYaml,
} from '../tenant/output.js';
import { ManifestError, parseManifests } from '../util/manifests.js';
import { parseCommandLine, UsageError } from './args.js';

const HELP = `usage: softtenant expand -f FILE [-f FILE...] [-o yaml|json]

Prints what the operator would write for the given SoftTenants and Namespaces: each held
namespace with its tenancy.softtenant.io/tenant label (a null label means the operator removes
it), then the generated NetworkPolicies, then the ClusterNetworkPolicies of strict tenants
(spec.isolation.strict), in a stable order. Conflicts and spec problems go to
stderr as warnings. Give the cluster's namespaces (kubectl get namespaces -o yaml) so that
selectors and existing labels are taken into account.

flags:
  -f, --filename FILE   a YAML/JSON file (multi-document or kind: List), a directory (its
                        .yaml, .yml and .json files), or - for stdin; repeatable
  -o, --output FORMAT   yaml (default: multi-document YAML) or json (a kind: List)
  -h, --help            show this help

exit status: 0 on success (warnings included), 1 when the input is invalid (errors on stderr,
nothing on stdout), 2 on a usage error.
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The files a -f argument stands for: itself, or a directory's manifest files in name order. */
async function expandPath(path: string): Promise<string[]> {
  if (path === '-') return ['-'];
  if (!(await stat(path)).isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  return names.map((n) => join(path, n));
}

async function readObjects(paths: readonly string[]): Promise<SourcedObject[]> {
  const out: SourcedObject[] = [];
  for (const arg of paths) {
    for (const file of await expandPath(arg)) {
      const source = file === '-' ? 'stdin' : file;
      const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      out.push(...parseManifests(text, source).map((object) => ({ object, source })));
    }
  }
  return out;
}

export async function run(args: string[]): Promise<number> {
  let files: string[];
  let format: string;
  try {
    const parsed = parseCommandLine(args, {
      values: ['filename', 'output'],
      bools: ['help'],
      aliases: { f: 'filename', o: 'output', h: 'help' },
    });
    if (parsed.bools.has('help')) {
      process.stdout.write(HELP);
      return 0;
    }
    files = parsed.flags.get('filename') ?? [];
    format = parsed.flags.get('output')?.at(-1) ?? 'yaml';
    if (parsed.positional.length > 0)
      throw new UsageError(`unexpected argument ${parsed.positional[0]}; give files with -f`);
    if (files.length === 0) throw new UsageError('no input: give at least one -f FILE (or -f - for stdin)');
    if (format !== 'yaml' && format !== 'json')
      throw new UsageError(`unknown output format ${format}: use yaml or json`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`softtenant expand: ${err.message}\n\n${HELP}`);
    return 2;
  }

  let objects: SourcedObject[];
  try {
    objects = await readObjects(files);
  } catch (err) {
    const reason =
      err instanceof ManifestError ? err.message : `cannot read input: ${(err as Error).message}`;
    process.stderr.write(`error: ${reason}\n`);
    return 1;
  }
  const { input, errors, notes } = collectInput(objects);
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  if (errors.length > 0) {
    for (const e of errors) process.stderr.write(`error: ${e}\n`);
    process.stderr.write(`softtenant expand: ${errors.length} error(s); nothing printed\n`);
    return 1;
  }
  const result = expandTenants(input);
  const docs = expansionDocuments(result);
  process.stdout.write(format === 'json' ? renderJson(docs) : renderYaml(docs));
  for (const w of expansionWarnings(result)) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(`${expansionSummary(result)}\n`);
  return 0;
}
