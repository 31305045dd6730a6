// LIST and WATCH over a real sqlite store: pagination, selectors,
// resourceVersion semantics, 410 Gone after compaction, watch transitions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { openSqliteStore, type SqliteStore } from '../../store/index.ts';
import { builtinResources } from '../registry/index.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { RequestContext } from './context.ts';
import { buildFilter } from './filters.ts';
import { listObjects } from './list.ts';
import { ObjectService } from './objects.ts';
import { watchObjects } from './watch.ts';

const ctx = (): RequestContext => ({
  user: { name: 'test', groups: [] },
  dryRun: false,
  fieldManager: 'test',
  fieldValidation: 'Strict',
  warnings: [],
});

describe('list and watch', () => {
  let dir: string;
  let store: SqliteStore;
  let objects: ObjectService;
  let configmaps: ResourceDef;
  const cm = (name: string, labels: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels },
    data: { name },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-listwatch-'));
    store = await openSqliteStore({ path: join(dir, 'db') });
    objects = new ObjectService({ store, admission: [] });
    configmaps = builtinResources().find((d) => d.plural === 'configmaps')!;
    for (let i = 0; i < 25; i++) {
      await objects.create(configmaps, 'v1', i % 2 ? 'odd' : 'even', cm(`cm-${String(i).padStart(2, '0')}`, { parity: i % 2 ? 'odd' : 'even' }), ctx());
    }
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('pages through everything with limit and continue, at one revision', async () => {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    let rv: string | undefined;
    do {
      const page = await listObjects(store, configmaps, 'v1', '', { filtered: false, limit: 10, continueToken: token });
      names.push(...page.items.map((i) => i.metadata.name!));
      rv ??= page.metadata.resourceVersion;
      assert.equal(page.metadata.resourceVersion, rv, 'every page is read at the first page\'s revision');
      if (page.metadata.continue) assert.equal(page.metadata.remainingItemCount, 25 - names.length);
      token = page.metadata.continue;
      pages++;
      if (pages === 1) await objects.create(configmaps, 'v1', 'even', cm('late'), ctx());
    } while (token);
    assert.equal(pages, 3);
    assert.equal(names.length, 25, 'the object created mid-way is not in the snapshot');
  });

  test('label and field selectors filter, with pages still full', async () => {
    const filter = buildFilter(configmaps, 'parity=odd', 'metadata.namespace=odd');
    const page = await listObjects(store, configmaps, 'v1', '', { filter, filtered: true, limit: 5 });
    assert.equal(page.items.length, 5);
    assert.ok(page.items.every((i) => i.metadata.labels?.parity === 'odd'));
    assert.ok(page.metadata.continue);
    assert.equal(page.metadata.remainingItemCount, undefined, 'unknown with a filter');
    assert.throws(() => buildFilter(configmaps, 'a in (', ''), ApiError);
  });

  test('an exact read of a compacted revision is 410 Gone', async () => {
    const first = await listObjects(store, configmaps, 'v1', 'even', { filtered: false });
    await objects.mutate(configmaps, 'v1', 'even', 'late', ctx(), '', (o) => ({ ...o, data: { changed: 'yes' } }));
    await store.compact(await store.currentRevision());
    await assert.rejects(
      listObjects(store, configmaps, 'v1', 'even', { filtered: false, resourceVersion: first.metadata.resourceVersion, resourceVersionMatch: 'Exact' }),
      (err: ApiError) => err.code === 410,
    );
    const events = watchObjects(store, configmaps, 'v1', '', {
      resourceVersion: '1',
      allowBookmarks: false,
      signal: AbortSignal.timeout(2000),
    });
    const firstEvent = (await events.next()).value?.[0];
    assert.equal(firstEvent?.type, 'ERROR');
    assert.equal((firstEvent?.object as { code?: number } | undefined)?.code, 410);
  });

  test('a watch reports objects entering and leaving the selection', async () => {
    const abort = new AbortController();
    const start = await store.currentRevision();
    const filter = buildFilter(configmaps, 'tier=web', '');
    const events = watchObjects(store, configmaps, 'v1', 'even', { filter, resourceVersion: String(start), allowBookmarks: false, signal: abort.signal });
    const seen: string[] = [];
    const done = (async () => {
      for await (const batch of events) {
        for (const e of batch) seen.push(`${e.type}:${(e.object as KubeObject).metadata.name}`);
        if (seen.length >= 3) abort.abort();
      }
    })();
    const labelsWith = (tier: string | undefined): Record<string, string> => (tier ? { parity: 'even', tier } : { parity: 'even' });
    const label = (value: string | undefined) =>
      objects.mutate(configmaps, 'v1', 'even', 'cm-00', ctx(), '', (o) => ({
        ...o,
        metadata: { ...o.metadata, labels: labelsWith(value) },
      }));
    await label('web');
    await label('web2');
    await objects.create(configmaps, 'v1', 'even', cm('web-new', { tier: 'web' }), ctx());
    await done;
    assert.deepEqual(seen, ['ADDED:cm-00', 'DELETED:cm-00', 'ADDED:web-new']);
  });
});
