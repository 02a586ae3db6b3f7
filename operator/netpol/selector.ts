// Label selectors (metav1.LabelSelector: matchLabels + matchExpressions, ANDed) compiled once
// into predicates, and a canonical key per selector so that equal selectors written differently
// share one cached result. The one selector of the project: NetworkPolicy pod and namespace
// selectors, a SoftTenant's namespace selector and the operator's pod selection all compile here,
// so they cannot mean different things. A selector the API server would refuse throws: such input
// is refused where it enters (the CRD schema, validateSoftTenant); the model turns a throw from a
// policy into a problem of that policy.
import type { LabelSelector, LabelSelectorRequirement } from '../api/networkpolicy.js';

export type Labels = Readonly<Record<string, string>>;

export interface CompiledSelector {
  /** Canonical text of the selector: equal keys select the same objects. */
  readonly key: string;
  /** True for `{}` (and an absent selector where the API means "everything"). */
  readonly matchesAll: boolean;
  /** matchLabels pairs, sorted; a label index can narrow candidates with any one of them. */
  readonly requiredLabels: readonly (readonly [string, string])[];
  /** No matchExpressions: requiredLabels is the whole selector. */
  readonly labelsOnly: boolean;
  matches(labels: Labels | undefined): boolean;
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

type Predicate = (labels: Labels) => boolean;

function requirementPredicate(req: LabelSelectorRequirement, where: string): Predicate {
  const { key, operator } = req;
  if (typeof key !== 'string' || key === '')
    throw new SelectorError(`${where}: matchExpressions entry has no key`);
  const values = req.values ?? [];
  switch (operator) {
    case 'In':
    case 'NotIn': {
      // The API rejects In/NotIn without values; an empty set would make In match nothing and
      // NotIn match everything, which is never what the author meant.
      if (values.length === 0)
        throw new SelectorError(`${where}: operator ${operator} on key "${key}" needs values`);
      const set = new Set(values);
      return operator === 'In'
        ? (labels) => labels[key] !== undefined && set.has(labels[key])
        : (labels) => labels[key] === undefined || !set.has(labels[key]);
    }
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0)
        throw new SelectorError(`${where}: operator ${operator} on key "${key}" takes no values`);
      return operator === 'Exists'
        ? (labels) => labels[key] !== undefined
        : (labels) => labels[key] === undefined;
    default:
      throw new SelectorError(`${where}: unknown operator "${String(operator)}" on key "${key}"`);
  }
}

function requirementKey(req: LabelSelectorRequirement): string {
  return `${req.key} ${req.operator} ${[...(req.values ?? [])].sort().join(',')}`;
}

/**
 * Compiles a selector. `where` names the field in error messages ("spec.podSelector").
 * Throws SelectorError for selectors the API server would reject.
 */
export function compileSelector(selector: LabelSelector | undefined, where: string): CompiledSelector {
  const matchLabels = selector?.matchLabels ?? {};
  if (typeof matchLabels !== 'object' || Array.isArray(matchLabels)) {
    throw new SelectorError(`${where}: matchLabels must be a map`);
  }
  const expressions = selector?.matchExpressions ?? [];
  if (!Array.isArray(expressions)) throw new SelectorError(`${where}: matchExpressions must be a list`);
  const required = Object.entries(matchLabels)
    .map(([k, v]) => [k, String(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const predicates = expressions.map((req, i) =>
    requirementPredicate(req, `${where}.matchExpressions[${i}]`),
  );
  const key = JSON.stringify([required, expressions.map(requirementKey).sort()]);
  const matchesAll = required.length === 0 && predicates.length === 0;
  return {
    key,
    matchesAll,
    requiredLabels: required,
    labelsOnly: predicates.length === 0,
    matches(labels: Labels | undefined): boolean {
      const l = labels ?? {};
      for (const [k, v] of required) if (l[k] !== v) return false;
      for (const p of predicates) if (!p(l)) return false;
      return true;
    },
  };
}
