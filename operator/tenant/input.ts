// Turns parsed manifests into the expansion's input for `softtenant expand`: SoftTenants and
// Namespaces are validated and kept, anything else is set aside with a note.
import type { Namespace } from '../api/networkpolicy.js';
import { KIND, type SoftTenant } from '../api/softtenant.js';
import { describeObject, type KubeObject } from '../util/manifests.js';
import type { ExpansionInput } from './types.js';
import { validateNamespace, validateSoftTenant, type FieldError } from './validate.js';

export interface SourcedObject {
  object: KubeObject;
  /** Where it came from (a file name, or "stdin"), for messages. */
  source: string;
}

export interface CollectedInput {
  input: ExpansionInput;
  /** Invalid objects: each names the object, its source, the field and what is wrong. */
  errors: string[];
  /** Objects set aside (other kinds). */
  notes: string[];
}

function formatError(o: SourcedObject, e: FieldError): string {
  return `${describeObject(o.object)} (${o.source}): ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

export function collectInput(objects: readonly SourcedObject[]): CollectedInput {
  const tenants = new Map<string, SoftTenant>();
  const namespaces = new Map<string, Namespace>();
  const errors: string[] = [];
  const notes: string[] = [];
  for (const o of objects) {
    const kind = o.object.kind;
    if (kind !== KIND && kind !== 'Namespace') {
      notes.push(
        `ignoring ${describeObject(o.object)} (${o.source}): expand reads only SoftTenants and Namespaces`,
      );
      continue;
    }
    const problems = kind === KIND ? validateSoftTenant(o.object) : validateNamespace(o.object);
    if (problems.length > 0) {
      errors.push(...problems.map((e) => formatError(o, e)));
      continue;
    }
    const name = o.object.metadata?.name as string;
    const seen: Map<string, unknown> = kind === KIND ? tenants : namespaces;
    if (seen.has(name)) {
      errors.push(
        `${describeObject(o.object)} (${o.source}): metadata.name: Duplicate value: "${name}" appears twice in the input`,
      );
      continue;
    }
    if (kind === KIND) tenants.set(name, o.object as unknown as SoftTenant);
    else namespaces.set(name, o.object as unknown as Namespace);
  }
  return { input: { tenants: [...tenants.values()], namespaces: [...namespaces.values()] }, errors, notes };
}
