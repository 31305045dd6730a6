// WATCH: events for one resource (optionally one namespace), filtered by
// selectors with Kubernetes' transitions (an object that stops matching is
// reported DELETED, one that starts matching ADDED), optional initial
// ADDED events and bookmarks.
import { statusOf } from '../../api/errors.ts';
import { apiVersionOf, type KubeObject, type Status } from '../../api/types.ts';
import { CompactedError, type KeyValue, type Store, WatcherOverflowError } from '../../store/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import { decode, resourcePrefix, toVersion } from './codec.ts';
import { type Filter, listObjects, parseResourceVersion } from './list.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
/**
 * One event for one watcher. `object` may be shared by every watcher of the
 * same change in the same version (decoded and converted once), so consumers
 * must not modify it; its identity lets streams serialise it once too.
 */
export type ApiWatchEvent = { type: WatchEventType; object: KubeObject | Status };

/** Decoded stored versions, shared by all watchers of a change (the store shares its event objects). */
const decoded = new WeakMap<KeyValue, KubeObject>();
/** Per decoded object, its converted form per served group/version. */
const converted = new WeakMap<KubeObject, Map<string, KubeObject>>();

function decodeShared(kv: KeyValue): KubeObject {
  let obj = decoded.get(kv);
  if (!obj) {
    obj = decode(kv);
    decoded.set(kv, obj);
  }
  return obj;
}

function toVersionShared(def: ResourceDef, obj: KubeObject, version: string): KubeObject {
  let byVersion = converted.get(obj);
  if (!byVersion) {
    byVersion = new Map();
    converted.set(obj, byVersion);
  }
  // Two resources can share storage (core and events.k8s.io events): the group is part of the key.
  const key = `${def.group}/${version}`;
  let out = byVersion.get(key);
  if (!out) {
    out = toVersion(def, obj, version);
    byVersion.set(key, out);
  }
  return out;
}

export type WatchRequest = {
  filter?: Filter;
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  allowBookmarks: boolean;
  signal: AbortSignal;
};

/** Marks the bookmark that ends the initial events of a sendInitialEvents watch. */
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export async function* watchObjects(
  store: Store,
  def: ResourceDef,
  version: string,
  namespace: string,
  req: WatchRequest,
): AsyncGenerator<ApiWatchEvent[]> {
  const rv = req.resourceVersion ?? '';
  const initial = req.sendInitialEvents ?? (rv === '' || rv === '0');
  let after: number;
  if (initial) {
    const page = await listObjects(store, def, version, namespace, { filter: req.filter, filtered: true });
    const events: ApiWatchEvent[] = page.items.map((object) => ({ type: 'ADDED', object }));
    after = Number(page.metadata.resourceVersion);
    if (req.sendInitialEvents && req.allowBookmarks) {
      events.push({ type: 'BOOKMARK', object: bookmark(def, version, after, { [INITIAL_EVENTS_END]: 'true' }) });
    }
    if (events.length > 0) yield events;
  } else if (rv === '' || rv === '0') {
    after = await store.currentRevision(); // "start at any point", without the initial state
  } else {
    after = parseResourceVersion(rv);
  }

  const matches = (obj: KubeObject | undefined) => obj !== undefined && (!req.filter || req.filter(obj));
  try {
    for await (const batch of store.watch(resourcePrefix(def, namespace), { afterRevision: after, signal: req.signal })) {
      const out: ApiWatchEvent[] = [];
      for (const event of batch) {
        const now = decodeShared(event.kv);
        const before = event.prev ? decodeShared(event.prev) : event.type === 'delete' ? now : undefined;
        const type = transition(event.type, matches(before), matches(now));
        if (type) out.push({ type, object: toVersionShared(def, now, version) });
      }
      if (out.length > 0) yield out;
    }
  } catch (err) {
    if (err instanceof CompactedError) {
      yield [{ type: 'ERROR', object: statusOf(410, 'Expired', `too old resource version: ${after} (${err.compactedRevision})`) }];
      return;
    }
    if (err instanceof WatcherOverflowError) {
      // The client re-lists and watches again, as after any closed watch.
      return;
    }
    throw err;
  }
}

function transition(
  type: 'create' | 'update' | 'delete',
  matchedBefore: boolean,
  matchesNow: boolean,
): WatchEventType | undefined {
  if (type === 'create') return matchesNow ? 'ADDED' : undefined;
  if (type === 'delete') return matchedBefore ? 'DELETED' : undefined;
  if (matchedBefore && matchesNow) return 'MODIFIED';
  if (matchesNow) return 'ADDED';
  if (matchedBefore) return 'DELETED';
  return undefined;
}

export function bookmark(
  def: ResourceDef,
  version: string,
  revision: number,
  annotations?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: apiVersionOf(def.group, version),
    kind: def.kind,
    metadata: { resourceVersion: String(revision), ...(annotations ? { annotations } : {}) },
  };
}
