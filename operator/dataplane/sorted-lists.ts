// Small edits of sorted string lists, for patching set members and pod lists in place.
import { parseIPv4 } from '../net/address.js';

/** Inserts an IPv4 address into a list sorted by address (all IPv4, all distinct). */
export function insertByAddress(list: string[], ip: string): void {
  const n = parseIPv4(ip) as number;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((parseIPv4(list[mid]) as number) < n) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, ip);
}

export function insertSorted(list: string[], key: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, key);
}

export function remove(list: string[], item: string): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
