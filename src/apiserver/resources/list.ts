// LIST with label/field filters, pagination (limit/continue) and
// resourceVersion semantics, reading through the store.
import { errors } from '../../api/errors.ts';
import type { KubeObject, ListMeta } from '../../api/types.ts';
import { CompactedError, FutureRevisionError, type Store } from '../../store/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import { decode, resourcePrefix, toVersion } from './codec.ts';

/** Decides whether a stored object (storage version) is selected. */
export type Filter = (obj: KubeObject) => boolean;

export type ListRequest = {
  filter?: Filter;
  /** Whether a filter is in effect (remainingItemCount is only known without one). */
  filtered: boolean;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
};

export type ListPage = { items: KubeObject[]; metadata: ListMeta };

/** How many stored items one filtered page reads per store call: big enough to fill most pages at once. */
const FILTERED_READ_BATCH = 500;

type ContinueToken = { rv: number; start: string };

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(value: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(value, 'base64url').toString()) as ContinueToken;
    if (typeof token.rv === 'number' && typeof token.start === 'string') return token;
  } catch {}
  throw errors.badRequest(`invalid continue token: ${value}`);
}

export function parseResourceVersion(value: string, what = 'resourceVersion'): number {
  if (!/^\d+$/.test(value)) throw errors.badRequest(`invalid ${what} value: "${value}"`);
  return Number(value);
}

/** The revision to read at, from the request's resourceVersion and resourceVersionMatch. */
async function readRevision(store: Store, req: ListRequest): Promise<number> {
  const rv = req.resourceVersion ?? '';
  const match = req.resourceVersionMatch ?? '';
  if (match && !['Exact', 'NotOlderThan'].includes(match)) {
    throw errors.badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  }
  if (match && rv === '') throw errors.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (match === 'Exact') {
    const wanted = parseResourceVersion(rv);
    if (wanted === 0) throw errors.badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
    return wanted;
  }
  const current = await store.currentRevision();
  if (rv !== '' && rv !== '0') {
    const wanted = parseResourceVersion(rv);
    if (wanted > current) throw errors.timeout(`Too large resource version: ${wanted}, current: ${current}`);
  }
  return 0; // latest
}

export async function listObjects(
  store: Store,
  def: ResourceDef,
  version: string,
  namespace: string,
  req: ListRequest,
): Promise<ListPage> {
  const prefix = resourcePrefix(def, namespace);
  let revision: number;
  let startAfter: string | undefined;
  if (req.continueToken) {
    const token = decodeContinue(req.continueToken);
    revision = token.rv;
    startAfter = prefix + token.start;
  } else {
    revision = await readRevision(store, req);
  }
  const limit = req.limit && req.limit > 0 ? req.limit : 0;
  const items: KubeObject[] = [];
  let readAt = revision;
  let lastKey: string | undefined;
  let more = false;
  let remaining = 0;
  try {
    for (;;) {
      // Unfiltered pages read exactly what they need; filtered ones read in batches and skip.
      const want = limit ? (req.filtered ? Math.max(FILTERED_READ_BATCH, limit) : limit - items.length) : 0;
      const page = await store.list(prefix, { revision: readAt, limit: want, startAfter });
      readAt = page.revision;
      for (const [index, kv] of page.items.entries()) {
        lastKey = kv.key;
        const obj = decode(kv);
        if (req.filter && !req.filter(obj)) continue;
        items.push(toVersion(def, obj, version));
        if (limit && items.length === limit) {
          more = index < page.items.length - 1 || page.remaining > 0;
          remaining = page.remaining + (page.items.length - 1 - index);
          break;
        }
      }
      if (!limit || items.length === limit || page.remaining === 0) break;
      startAfter = lastKey;
    }
  } catch (err) {
    if (err instanceof FutureRevisionError) {
      throw errors.timeout(`Too large resource version: ${revision}, current: ${await store.currentRevision()}`);
    }
    if (err instanceof CompactedError) {
      throw errors.gone(
        req.continueToken
          ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.'
          : `too old resource version: ${req.resourceVersion} (${err.compactedRevision})`,
      );
    }
    throw err;
  }
  const metadata: ListMeta = { resourceVersion: String(readAt) };
  if (more && lastKey) {
    metadata.continue = encodeContinue({ rv: readAt, start: lastKey.slice(prefix.length) });
    if (!req.filtered) metadata.remainingItemCount = remaining;
  }
  return { items, metadata };
}
