// Reads a V8 heap snapshot (.heapsnapshot, as --heapsnapshot-signal writes it) and sums the
// objects' own sizes by constructor (or by node type for strings, code, closures...): where a
// process's heap goes, for `make bench-operator BENCH_PROFILE=1`.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  name: string;
  count: number;
  bytes: number;
}

export function heapByConstructor(path: string, top = 15): { totalBytes: number; groups: HeapGroup[] } {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  let totalBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]] ?? '?';
    const size = snap.nodes[i + sizeAt];
    totalBytes += size;
    const name = type === 'object' ? (snap.strings[snap.nodes[i + nameAt]] ?? '?') : `(${type})`;
    const group = groups.get(name) ?? { name, count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += size;
    groups.set(name, group);
  }
  const sorted = [...groups.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top);
  return { totalBytes, groups: sorted };
}
