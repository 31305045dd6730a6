// Element order of merged lists, as Kubernetes' strategic merge patch sets it
// (normalizeElementOrder / mergeSortedSlice in apimachinery's strategicpatch):
// items named by the patch (or by $setElementOrder) come in that order; the
// server-only items keep their live order and are slotted back in front of
// the first named item that followed them in the live list.
import { hasOwn, isObject } from './json-value.ts';

/** What identifies a list element: its merge key value, or the value itself for primitives. */
export type Identity = (item: unknown) => unknown;

export function identityFor(mergeKey: string): Identity {
  if (!mergeKey) return (item) => item;
  // An element without the merge key is only ever equal to itself.
  return (item) => (isObject(item) && hasOwn(item, mergeKey) ? item[mergeKey] : item);
}

function positions(list: unknown[], id: Identity): Map<unknown, number> {
  const index = new Map<unknown, number>();
  list.forEach((item, i) => {
    const key = id(item);
    if (!index.has(key)) index.set(key, i);
  });
  return index;
}

function byPosition(index: Map<unknown, number>, id: Identity) {
  return (a: unknown, b: unknown): number => {
    const pa = index.get(id(a));
    const pb = index.get(id(b));
    if (pa === undefined || pb === undefined) return pa === pb ? 0 : pa === undefined ? 1 : -1;
    return pa - pb;
  };
}

/**
 * Orders `merged`: items whose identity appears in `order` follow `order`;
 * the others follow `live` (the list before the patch) and are interleaved by
 * their live positions.
 */
export function orderElements(merged: unknown[], order: unknown[], live: unknown[], id: Identity): unknown[] {
  const orderIndex = positions(order, id);
  const liveIndex = positions(live, id);
  const named: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const item of merged) (orderIndex.has(id(item)) ? named : serverOnly).push(item);
  named.sort(byPosition(orderIndex, id));
  serverOnly.sort(byPosition(liveIndex, id));

  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length && j < named.length) {
    const left = liveIndex.get(id(serverOnly[i]));
    const right = liveIndex.get(id(named[j]));
    if (left !== undefined && right !== undefined && left < right) out.push(serverOnly[i++]);
    else out.push(named[j++]);
  }
  while (i < serverOnly.length) out.push(serverOnly[i++]);
  while (j < named.length) out.push(named[j++]);
  return out;
}
