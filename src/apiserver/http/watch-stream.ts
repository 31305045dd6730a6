// Streams a watch as newline-delimited JSON events over a chunked response,
// with bookmarks, timeoutSeconds and Table rows for kubectl get -w.
import { errors } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import { bookmark, watchObjects } from '../resources/watch.ts';
import { negotiate } from './negotiate.ts';
import { isTrue } from './request-info.ts';
import type { Call } from './resource-handler.ts';
import { partialMetadata, toTable } from './table.ts';

/** Kubernetes closes watches after a random 30–60 minutes so that clients spread their re-lists. */
const MIN_WATCH_SECONDS = 1800;
/** Serialised objects by identity and representation, shared by the watchers of one change. */
const serialized = new WeakMap<object, Map<string, string>>();

/** How often an idle watch with allowWatchBookmarks gets a BOOKMARK (Kubernetes: about a minute). */
const BOOKMARK_INTERVAL_MS = 30_000;

export async function serveWatch(call: Call, def: ResourceDef, version: string, tableContentType: string): Promise<void> {
  const { req, res, query, deps, info } = call;
  const representation = negotiate(req.headers.accept);
  const filter = deps.buildFilter(def, query.get('labelSelector') ?? '', query.get('fieldSelector') ?? '');
  const timeoutText = query.get('timeoutSeconds');
  if (timeoutText !== null && !/^\d+$/.test(timeoutText)) throw errors.badRequest(`invalid timeoutSeconds: "${timeoutText}"`);
  const timeoutSeconds = timeoutText ? Number(timeoutText) : MIN_WATCH_SECONDS * (1 + Math.random());
  const allowBookmarks = isTrue(query.get('allowWatchBookmarks'));
  const sendInitialText = query.get('sendInitialEvents');
  const sendInitialEvents = sendInitialText === null ? undefined : isTrue(sendInitialText);
  if (sendInitialEvents !== undefined && query.get('resourceVersionMatch') !== 'NotOlderThan') {
    throw errors.invalid('', 'ListOptions', '', [
      { reason: 'FieldValueForbidden', field: 'sendInitialEvents', message: "Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to 'NotOlderThan'" },
    ]);
  }

  const abort = new AbortController();
  const close = () => abort.abort();
  req.on('close', close);
  res.on('close', close);
  const timer = setTimeout(close, timeoutSeconds * 1000);
  let lastRevision = Number(query.get('resourceVersion') || 0);
  let first = true;
  const bookmarks = allowBookmarks
    ? setInterval(() => {
        if (lastRevision > 0) write([{ type: 'BOOKMARK', object: bookmark(def, version, lastRevision) }]);
      }, BOOKMARK_INTERVAL_MS)
    : undefined;

  const shape = (obj: KubeObject): KubeObject => {
    if (representation === 'table' && obj.kind !== 'Status') {
      const table = toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion }, {
        includeObject: 'Metadata',
        now: deps.objects.now(),
        withColumns: first,
      });
      first = false;
      return table;
    }
    if (representation === 'metadata' && obj.kind !== 'Status') return partialMetadata(obj);
    return obj;
  };
  /** JSON of an event's object; shared objects are serialised once for every watcher that sends them. */
  const objectJson = (obj: KubeObject): string => {
    if (representation === 'table') return JSON.stringify(shape(obj));
    let forObject = serialized.get(obj);
    if (!forObject) {
      forObject = new Map();
      serialized.set(obj, forObject);
    }
    let json = forObject.get(representation);
    if (json === undefined) {
      json = JSON.stringify(shape(obj));
      forObject.set(representation, json);
    }
    return json;
  };
  const line = (event: { type: string; object: KubeObject }) => `{"type":"${event.type}","object":${objectJson(event.object)}}\n`;
  function write(events: { type: string; object: KubeObject }[]): void {
    if (events.length === 0 || res.writableEnded || res.destroyed) return;
    res.write(events.map(line).join(''));
  }

  res.writeHead(200, {
    'Content-Type': representation === 'table' ? tableContentType : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  try {
    const events = watchObjects(deps.store, def, version, info.namespace, {
      filter,
      resourceVersion: query.get('resourceVersion') ?? undefined,
      sendInitialEvents,
      allowBookmarks,
      signal: abort.signal,
    });
    for await (const batch of events) {
      if (abort.signal.aborted) break;
      for (const event of batch) {
        const rv = Number((event.object as KubeObject).metadata?.resourceVersion ?? 0);
        if (rv > lastRevision) lastRevision = rv;
      }
      write(batch.filter((e) => e.type !== 'BOOKMARK' || allowBookmarks) as { type: string; object: KubeObject }[]);
    }
  } catch (err) {
    if (!abort.signal.aborted) deps.log.warn('watch ended with an error', { resource: def.plural, err });
  } finally {
    clearTimeout(timer);
    if (bookmarks) clearInterval(bookmarks);
    req.off('close', close);
    if (!res.writableEnded) res.end();
  }
}
