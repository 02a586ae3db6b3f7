// Reads Kubernetes objects from YAML/JSON text: multi-document streams and `kind: List`
// (what `kubectl get -o yaml` prints) both flatten to one array of objects.
import yaml from 'js-yaml';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export class ManifestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ManifestError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseManifests(text: string, source = 'input'): KubeObject[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text);
  } catch (err) {
    throw new ManifestError(`${source}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const out: KubeObject[] = [];
  const visit = (doc: unknown, where: string): void => {
    if (doc === null || doc === undefined) return;
    if (!isObject(doc)) throw new ManifestError(`${where}: expected a Kubernetes object, got ${typeof doc}`);
    const kind = doc.kind;
    if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(doc.items)) {
      doc.items.forEach((item, i) => visit(item, `${where} items[${i}]`));
      return;
    }
    if (typeof kind !== 'string' || kind === '') throw new ManifestError(`${where}: object has no kind`);
    out.push(doc as KubeObject);
  };
  docs.forEach((d, i) => visit(d, `${source} document ${i + 1}`));
  return out;
}

/** "Kind ns/name" or "Kind name", for error messages and logs. */
export function describeObject(o: KubeObject): string {
  const name = o.metadata?.name ?? '<unnamed>';
  const ns = o.metadata?.namespace;
  return `${o.kind ?? 'Object'} ${ns ? `${ns}/` : ''}${name}`;
}

/** Canonical YAML of one document: sorted keys, no line wrapping, so output is stable for diffs. */
export function dumpYamlDocument(object: unknown): string {
  return yaml.dump(object, { sortKeys: true, lineWidth: -1, noRefs: true });
}

/** Canonical YAML documents, separated by ---. */
export function dumpYaml(objects: readonly unknown[]): string {
  return objects.map(dumpYamlDocument).join('---\n');
}
