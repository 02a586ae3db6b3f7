// Which pods differ between two renders' inputs. Pure.
import type { Pod } from '../api/networkpolicy.js';
import { objectKey } from '../netpol/types.js';

function podKey(pod: Pod): string {
  return objectKey(pod.metadata.namespace ?? 'default', pod.metadata.name);
}

/**
 * The pods that differ between two lists, by identity (a watch cache hands out the same object
 * until the pod changes). The common prefix and suffix are skipped by position; only the middle
 * is compared by name.
 */
export function podChanges(prev: readonly Pod[], next: readonly Pod[]): { old?: Pod; now?: Pod }[] {
  let head = 0;
  const shorter = Math.min(prev.length, next.length);
  while (head < shorter && prev[head] === next[head]) head++;
  let prevEnd = prev.length;
  let nextEnd = next.length;
  while (prevEnd > head && nextEnd > head && prev[prevEnd - 1] === next[nextEnd - 1]) {
    prevEnd--;
    nextEnd--;
  }
  const before = new Map<string, Pod>();
  for (let i = head; i < prevEnd; i++) before.set(podKey(prev[i]), prev[i]);
  const changes: { old?: Pod; now?: Pod }[] = [];
  for (let i = head; i < nextEnd; i++) {
    const now = next[i];
    const key = podKey(now);
    const old = before.get(key);
    before.delete(key);
    if (old !== now) changes.push({ ...(old ? { old } : {}), now });
  }
  for (const old of before.values()) changes.push({ old });
  return changes;
}
