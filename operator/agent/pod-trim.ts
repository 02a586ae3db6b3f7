// The agent keeps every pod of the cluster, and reads a handful of fields from each: who it is,
// its labels, its node, its addresses, its phase, hostNetwork and its named ports. A pod as the
// API serves it also carries managedFields, container specs, statuses and conditions — several
// kilobytes that the agent would hold for nothing. Pods are trimmed to what the model reads as
// they arrive, in place: the watch cache keeps the object it was given, and the trimmed one is
// that same object (identity is how the incremental render sees which pods changed). Its
// metadata, spec and status are replaced by new small objects rather than having keys deleted:
// V8 turns an object that loses properties into a dictionary that keeps most of its size.
import type { ContainerPort, Pod } from '../api/networkpolicy.js';
import { ENFORCED_GATE } from './readiness-gate.js';

/**
 * Pods per list page, in both binaries. A page of whole pods is parsed before it is trimmed, so
 * the page is the initial list's peak of short-lived memory: at 10,000 pods, pages of 100 instead
 * of 500 lowered the agent's high-water mark from 166 MB to 144 MB (`make bench-agent`,
 * docs/design.md), for 100 requests instead of 20.
 */
export const POD_LIST_PAGE_SIZE = 100;

/** A JSON object whose fields are read by name (the parts of a Pod being trimmed). */
type JsonFields = Record<string, unknown>;

function pick(from: JsonFields | undefined, keys: readonly string[]): JsonFields {
  const out: JsonFields = {};
  if (!from) return out;
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

function ports(list: unknown): ContainerPort[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return (list as JsonFields[]).map(
    (p) => pick(p, ['name', 'containerPort', 'protocol']) as unknown as ContainerPort,
  );
}

function containers(list: unknown, withRestartPolicy: boolean): JsonFields[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return (list as JsonFields[]).map((c) => {
    const out = pick(c, withRestartPolicy ? ['name', 'restartPolicy'] : ['name']);
    const p = ports(c.ports);
    if (p) out.ports = p;
    return out;
  });
}

/** The entries of a list whose `key` is the agent's readiness gate (undefined when none). */
function ours(list: unknown, key: string): JsonFields[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const found = (list as JsonFields[])
    .filter((x) => x?.[key] === ENFORCED_GATE)
    .map((x) => pick(x, [key, 'status']));
  return found.length > 0 ? found : undefined;
}

/** Keeps, in place, only the fields of a pod that the model reads; returns the same object. */
export function trimPod(pod: Pod): Pod {
  const obj = pod as unknown as JsonFields;
  obj.metadata = pick(obj.metadata as JsonFields | undefined, [
    'name',
    'namespace',
    'uid',
    'resourceVersion',
    'labels',
    'deletionTimestamp',
  ]);
  const spec = obj.spec as JsonFields | undefined;
  const trimmedSpec = pick(spec, ['nodeName', 'hostNetwork']);
  trimmedSpec.containers = containers(spec?.containers, false) ?? [];
  const init = containers(spec?.initContainers, true);
  if (init) trimmedSpec.initContainers = init;
  // The readiness gate (readiness-gate.ts): kept only on pods that carry it, with its condition.
  const gated = ours(spec?.readinessGates, 'conditionType');
  if (gated) trimmedSpec.readinessGates = gated;
  obj.spec = trimmedSpec;
  if (obj.status !== undefined) {
    const status = obj.status as JsonFields;
    const trimmed = pick(status, ['phase', 'podIP', 'podIPs']);
    const condition = gated && ours(status.conditions, 'type');
    if (condition) trimmed.conditions = condition;
    obj.status = trimmed;
  }
  return pod;
}
