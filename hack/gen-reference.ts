// Writes docs/reference.md from the CRD's own schema (descriptions, types, defaults, enums and
// validation messages), so the reference cannot drift from what the API server enforces.
// Usage: node dist/hack/gen-reference.js [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  required?: string[];
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function typeOf(s: Schema): string {
  if (s['x-kubernetes-int-or-string']) return 'int or string';
  if (s.type === 'array') return `[]${s.items ? typeOf(s.items) : 'any'}`;
  return s.type ?? 'object';
}

function constraints(s: Schema): string[] {
  const out: string[] = [];
  if (s.enum) out.push(`one of ${s.enum.map((e) => `\`${String(e)}\``).join(', ')}`);
  if (s.default !== undefined) out.push(`default \`${JSON.stringify(s.default)}\``);
  if (s.minimum !== undefined || s.maximum !== undefined)
    out.push(`range ${s.minimum ?? ''}..${s.maximum ?? ''}`);
  if (s.maxItems !== undefined) out.push(`at most ${s.maxItems} items`);
  if (s.minLength !== undefined) out.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`max length ${s.maxLength}`);
  for (const v of s['x-kubernetes-validations'] ?? []) if (v.message) out.push(`rejected when: ${v.message}`);
  return out;
}

function walk(path: string, s: Schema, required: boolean, rows: string[]): void {
  const desc = (s.description ?? '').replace(/\s+/g, ' ').trim();
  const extra = constraints(s);
  const cell = [desc, ...extra.map((c) => `*${c}*`)].filter(Boolean).join('<br>');
  rows.push(`| \`${path}\` | ${typeOf(s)}${required ? ' (required)' : ''} | ${cell.replace(/\|/g, '\\|')} |`);
  const props = s.properties ?? s.items?.properties;
  const req = new Set(s.properties ? (s.required ?? []) : (s.items?.required ?? []));
  const prefix = s.type === 'array' ? `${path}[]` : path;
  for (const [name, child] of Object.entries(props ?? {}))
    walk(`${prefix}.${name}`, child, req.has(name), rows);
}

export function renderReference(crdText: string): string {
  const crd = yaml.load(crdText) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  };
  const version = crd.spec.versions[0];
  if (!version) throw new Error('CRD has no versions');
  const schema = version.schema.openAPIV3Schema;
  const rows: string[] = [];
  for (const top of ['spec', 'status']) {
    const s = schema.properties?.[top];
    if (s) walk(top, s, false, rows);
  }
  return [
    '# SoftTenant reference',
    '',
    `\`tenancy.softtenant.io/${version.name}\`, kind \`SoftTenant\`, cluster-scoped, short name \`stn\`.`,
    'Generated from `crds/tenancy.softtenant.io_softtenants.yaml` by `node dist/hack/gen-reference.js`;',
    'do not edit by hand. `kubectl explain softtenant.spec --recursive` shows the same descriptions.',
    'Examples: `config/samples/` (two tenants and the seed example), previewed offline with',
    '`softtenant expand -f config/samples`.',
    '',
    '| field | type | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const text = renderReference(
    readFileSync(join(root, 'crds/tenancy.softtenant.io_softtenants.yaml'), 'utf8'),
  );
  const target = join(root, 'docs/reference.md');
  if (process.argv.includes('--check')) {
    const current = readFileSync(target, 'utf8');
    if (current !== text) {
      process.stderr.write('docs/reference.md is out of date: run node dist/hack/gen-reference.js\n');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
  }
}
