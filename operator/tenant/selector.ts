// Label selector matching (metav1.LabelSelector semantics), used to find the namespaces a
// tenant's namespaces.selector claims.
import type { LabelSelector, LabelSelectorRequirement } from '../api/networkpolicy.js';

export type Labels = Readonly<Record<string, string>>;

function requirementHolds(req: LabelSelectorRequirement, labels: Labels): boolean {
  const present = Object.prototype.hasOwnProperty.call(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return present && values.includes(labels[req.key]);
    case 'NotIn':
      return !present || !values.includes(labels[req.key]);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    default:
      // An operator the schema does not know selects nothing rather than everything.
      return false;
  }
}

/**
 * The selector as a predicate, its parts taken apart once: expansion tests every namespace
 * against every tenant's selector, so the per-call work is kept to comparisons.
 */
export function selectorPredicate(selector: LabelSelector): (labels: Labels) => boolean {
  const pairs = Object.entries(selector.matchLabels ?? {});
  const reqs = selector.matchExpressions ?? [];
  return (labels) =>
    pairs.every(([k, v]) => labels[k] === v) && reqs.every((r) => requirementHolds(r, labels));
}
