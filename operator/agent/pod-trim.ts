// The agent keeps every pod of the cluster, and reads a handful of fields from each: who it is,
// its labels, its node, its addresses, its phase, hostNetwork and its named ports. A pod as the
// API serves it also carries managedFields, container specs, statuses and conditions — several
// kilobytes that the agent would hold for nothing. Pods are trimmed to what the model reads as
// they arrive, in place: the watch cache keeps the object it was given, and the trimmed one is
// that same object (identity is how the incremental render sees which pods changed). Its
// metadata, spec and status are replaced by new small objects rather than having keys deleted:
// V8 turns an object that loses properties into a dictionary that keeps most of its size.
import type { ContainerPort, Pod } from '../api/networkpolicy.js';

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
  obj.spec = trimmedSpec;
  if (obj.status !== undefined) obj.status = pick(obj.status as JsonFields, ['phase', 'podIP', 'podIPs']);
  return pod;
}
