// A small structural checker for the offline validator: walks untyped input (parsed YAML) and
// records errors with their field paths, worded like the API server's schema errors so that
// `softtenant expand` and `kubectl apply` read alike.

export interface FieldError {
  /** Path in the object, e.g. spec.allowFrom[0].ipBlock.cidr. */
  field: string;
  message: string;
}

export type Json = Record<string, unknown>;

export class Checker {
  readonly errors: FieldError[] = [];

  add(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  /**
   * An object. With `known`, other keys are reported as unknown fields (as kubectl's strict
   * field validation does); without, any key is accepted.
   */
  object(value: unknown, field: string, known?: readonly string[]): Json | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.add(field || '<root>', 'must be of type object');
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (known && !known.includes(key)) this.add(field ? `${field}.${key}` : key, `unknown field "${key}"`);
    }
    return value as Json;
  }

  /** A map of string values (matchLabels, labels). */
  stringMap(value: unknown, field: string): Record<string, string> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.add(field, 'must be of type object');
      return undefined;
    }
    let ok = true;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') {
        this.add(`${field}.${k}`, 'must be of type string');
        ok = false;
      }
    }
    return ok ? (value as Record<string, string>) : undefined;
  }

  array(value: unknown, field: string, bounds: { max: number; min?: number }): unknown[] | undefined {
    if (!Array.isArray(value)) {
      this.add(field, 'must be of type array');
      return undefined;
    }
    if (value.length > bounds.max)
      this.add(field, `Too many: ${value.length}: must have at most ${bounds.max} items`);
    if (bounds.min !== undefined && value.length < bounds.min) {
      this.add(field, `should have at least ${bounds.min} items`);
    }
    return value as unknown[];
  }

  string(value: unknown, field: string, maxLength?: number): string | undefined {
    if (typeof value !== 'string') {
      this.add(field, 'must be of type string');
      return undefined;
    }
    if (maxLength !== undefined && value.length > maxLength) {
      this.add(field, `Too long: may not be more than ${maxLength} bytes`);
      return undefined;
    }
    return value;
  }

  integer(value: unknown, field: string, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.add(field, 'must be of type integer');
      return undefined;
    }
    if (value < min) this.add(field, `should be greater than or equal to ${min}`);
    if (value > max) this.add(field, `should be less than or equal to ${max}`);
    return value;
  }

  boolean(value: unknown, field: string): boolean | undefined {
    if (typeof value !== 'boolean') {
      this.add(field, 'must be of type boolean');
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T | undefined {
    const s = this.string(value, field);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) {
      this.add(
        field,
        `Unsupported value: "${s}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
      );
      return undefined;
    }
    return s as T;
  }

  required(obj: Json, field: string, key: string): boolean {
    if (obj[key] === undefined || obj[key] === null) {
      this.add(field ? `${field}.${key}` : key, 'Required value');
      return false;
    }
    return true;
  }

  /** For list-type set/map: each value (or key) at most once. */
  unique(values: readonly unknown[], field: string, keyOf: (v: unknown) => unknown = (v) => v): void {
    const seen = new Set<unknown>();
    values.forEach((v, i) => {
      const k = keyOf(v);
      if (k === undefined) return;
      if (seen.has(k)) this.add(`${field}[${i}]`, `Duplicate value: ${JSON.stringify(k)}`);
      seen.add(k);
    });
  }
}
