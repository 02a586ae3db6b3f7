// What the API server does with a custom resource, by the CRD's own structural schema: strict
// field validation (unknown fields), pruning of nulls, defaulting, OpenAPI value validation and
// the x-kubernetes-validations CEL rules, in that order and with the API server's field paths
// and wording. The schema is the only input: no check here knows SoftTenant, so the offline
// validator refuses what `kubectl apply` refuses by construction (docs/design.md says why this
// is interpreted here rather than handed to a JSON Schema library).
import type { Schema, ValidationRule } from './crd-schema.js';
import { compileRule } from './cel.js';

export interface FieldError {
  /** Path in the object as the API server writes it, e.g. spec.allowFrom[0].ipBlock.cidr. */
  field: string;
  message: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const childPath = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** The API server's error when a blocking schema error keeps it from running CEL rules. */
export const RULES_NOT_CHECKED =
  'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/** Fields the schema does not declare, as strict field validation reports them (all of them). */
export function unknownFields(schema: Schema, value: unknown, path = ''): FieldError[] {
  const out: FieldError[] = [];
  const visit = (s: Schema, v: unknown, p: string): void => {
    if (isObject(v)) {
      if (s.properties) {
        for (const [k, child] of Object.entries(v)) {
          const cp = childPath(p, k);
          const sub = s.properties[k];
          if (sub) visit(sub, child, cp);
          else out.push({ field: cp, message: `unknown field "${cp}"` });
        }
      } else if (s.additionalProperties) {
        for (const [k, child] of Object.entries(v)) visit(s.additionalProperties, child, childPath(p, k));
      } else {
        // An object where the schema has none (a map for a list, say): the API server prunes
        // every field of it, so each is unknown.
        for (const k of Object.keys(v))
          out.push({ field: childPath(p, k), message: `unknown field "${childPath(p, k)}"` });
      }
    } else if (Array.isArray(v) && s.items) {
      v.forEach((item, i) => visit(s.items as Schema, item, `${p}[${i}]`));
    }
  };
  visit(schema, value, path);
  return out;
}

/**
 * Drops nulls the schema does not allow and fills in declared defaults, in place, top-down (a
 * defaulted object gets its own fields' defaults), as the API server does on every write.
 */
export function applyDefaults(schema: Schema, value: unknown): void {
  if (isObject(value)) {
    if (schema.properties) {
      for (const [k, s] of Object.entries(schema.properties)) {
        if (value[k] === null && !s.nullable) delete value[k];
        if (value[k] === undefined && s.default !== undefined) value[k] = structuredClone(s.default);
        if (value[k] !== undefined) applyDefaults(s, value[k]);
      }
    } else if (schema.additionalProperties) {
      for (const v of Object.values(value)) applyDefaults(schema.additionalProperties, v);
    }
  } else if (Array.isArray(value) && schema.items) {
    for (const v of value) applyDefaults(schema.items, v);
  }
}

function typeMatches(schema: Schema, v: unknown): boolean {
  if (schema['x-kubernetes-int-or-string'])
    return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  switch (schema.type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

/** Schema (not CEL) errors; `blocking` is set for the kinds that stop the API server's CEL pass. */
class ValueValidator {
  readonly errors: FieldError[] = [];
  blocking = false;

  private add(field: string, message: string, blocking = false): void {
    this.errors.push({ field, message });
    if (blocking) this.blocking = true;
  }

  check(s: Schema, v: unknown, path: string): void {
    if (!typeMatches(s, v)) {
      const intFormat = s.type === 'integer' && (s.format === 'int32' || s.format === 'int64');
      const want = s['x-kubernetes-int-or-string'] ? 'integer,string' : intFormat ? s.format : s.type;
      this.add(path, `must be of type ${want}`, true);
      // The API server's format check reports a fraction for an int32/int64 a second time.
      if (intFormat && typeof v === 'number')
        this.add('', `Checked value must be of type integer with format ${s.format} in ${path}`);
      return;
    }
    if (typeof v === 'string') this.string(s, v, path);
    else if (typeof v === 'number') this.number(s, v, path);
    else if (Array.isArray(v)) this.array(s, v, path);
    else if (isObject(v)) this.object(s, v, path);
  }

  private string(s: Schema, v: string, path: string): void {
    const bytes = Buffer.byteLength(v, 'utf8');
    if (s.maxLength !== undefined && bytes > s.maxLength)
      this.add(path, `Too long: may not be more than ${s.maxLength} bytes`, true);
    if (s.minLength !== undefined && [...v].length < s.minLength)
      this.add(path, `should be at least ${s.minLength} chars long`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v))
      this.add(path, `should match '${s.pattern}'`);
    if (s.enum && !s.enum.includes(v)) {
      const supported = s.enum.map((e) => JSON.stringify(e)).join(', ');
      this.add(path, `Unsupported value: ${JSON.stringify(v)}: supported values: ${supported}`, true);
    }
  }

  private number(s: Schema, v: number, path: string): void {
    if (s.minimum !== undefined && v < s.minimum)
      this.add(path, `should be greater than or equal to ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum)
      this.add(path, `should be less than or equal to ${s.maximum}`);
  }

  private array(s: Schema, v: unknown[], path: string): void {
    if (s.maxItems !== undefined && v.length > s.maxItems)
      this.add(path, `Too many: ${v.length}: must have at most ${s.maxItems} items`, true);
    if (s.minItems !== undefined && v.length < s.minItems)
      this.add(path, `should have at least ${s.minItems} items`);
    if (s.items) v.forEach((item, i) => this.check(s.items as Schema, item, `${path}[${i}]`));
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set' || listType === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      const keyOf = (item: unknown): unknown =>
        listType === 'set' ? item : isObject(item) ? Object.fromEntries(keys.map((k) => [k, item[k]])) : item;
      const seen = new Set<string>();
      v.forEach((item, i) => {
        const key = keyOf(item);
        const text = JSON.stringify(key);
        if (seen.has(text)) this.add(`${path}[${i}]`, `Duplicate value: ${text}`);
        seen.add(text);
      });
    }
  }

  private object(s: Schema, v: Json, path: string): void {
    for (const k of s.required ?? [])
      if (v[k] === undefined) this.add(childPath(path, k), 'Required value', true);
    const size = Object.keys(v).length;
    if (s.maxProperties !== undefined && size > s.maxProperties)
      this.add(path, `Too many: ${size}: must have at most ${s.maxProperties} items`, true);
    if (s.properties) {
      for (const [k, sub] of Object.entries(s.properties))
        if (v[k] !== undefined) this.check(sub, v[k], childPath(path, k));
    } else if (s.additionalProperties) {
      for (const [k, x] of Object.entries(v)) this.check(s.additionalProperties, x, childPath(path, k));
    }
  }
}

/** A JSON value as CEL sees it under a schema: integers become CEL ints (bigint). */
function celValue(s: Schema, v: unknown): unknown {
  if (typeof v === 'number')
    return (s.type === 'integer' || s['x-kubernetes-int-or-string']) && Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return (v as unknown[]).map((x) => (s.items ? celValue(s.items, x) : x));
  if (isObject(v)) {
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      const sub = s.properties ? s.properties[k] : s.additionalProperties;
      out[k] = sub ? celValue(sub, x) : x;
    }
    return out;
  }
  return v;
}

function ruleError(rule: ValidationRule, self: unknown, path: string): FieldError | undefined {
  const field = rule.fieldPath ? `${path}${rule.fieldPath}`.replace(/^\./, '') : path;
  let ok: unknown;
  try {
    ok = compileRule(rule.rule)({ self });
  } catch (err) {
    return { field, message: `${rule.rule}: ${(err as Error).message.split('\n')[0]}` };
  }
  if (ok === true) return undefined;
  if (rule.messageExpression) {
    try {
      const text: unknown = compileRule(rule.messageExpression)({ self });
      if (typeof text === 'string' && text.trim() !== '') return { field, message: text };
    } catch {
      // As the API server: a failing messageExpression falls back to message.
    }
  }
  return { field, message: rule.message ?? `failed rule: ${rule.rule}` };
}

/** Every x-kubernetes-validations rule under s, evaluated on the CEL view of v. */
function celErrors(s: Schema, v: unknown, path: string, out: FieldError[]): void {
  if (v === undefined) return;
  for (const rule of s['x-kubernetes-validations'] ?? []) {
    const e = ruleError(rule, v, path);
    if (e) out.push(e);
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => celErrors(s.items as Schema, x, `${path}[${i}]`, out));
  else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const sub = s.properties ? s.properties[k] : s.additionalProperties;
      if (sub) celErrors(sub, x, childPath(path, k), out);
    }
  }
}

/**
 * Every error the API server reports when `value` is created under `schema`: unknown fields
 * alone when there are any (the request is refused while decoding); otherwise schema errors,
 * then CEL rule errors unless a blocking schema error stops them. `value` is not changed.
 */
export function validateAgainstSchema(schema: Schema, value: unknown): FieldError[] {
  const unknown = unknownFields(schema, value);
  if (unknown.length > 0) return unknown;
  const v = structuredClone(value);
  applyDefaults(schema, v);
  const schemaErrors = new ValueValidator();
  schemaErrors.check(schema, v, '');
  if (schemaErrors.blocking) return [...schemaErrors.errors, { field: '', message: RULES_NOT_CHECKED }];
  const rules: FieldError[] = [];
  celErrors(schema, celValue(schema, v), '', rules);
  return [...schemaErrors.errors, ...rules];
}
