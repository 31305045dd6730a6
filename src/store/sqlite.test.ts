import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { startCompactor } from './compactor.ts';
import { storeContract, takeEvents } from './contract.ts';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.ts';
import { StoreInUseError } from './sqlite-lock.ts';
import { KeyExistsError } from './types.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-store-'));
  dirs.push(dir);
  return join(dir, 'state.db');
}
async function openTemp(options: Omit<SqliteStoreOptions, 'path'> = {}) {
  const path = tempPath();
  const store = await openSqliteStore({ path, ...options });
  return { store, path };
}

storeContract('sqlite', async (options) => {
  const { store, path } = await openTemp(options);
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(join(path, '..'), { recursive: true, force: true });
    },
  };
});

const SQLITE_TS = JSON.stringify(join(import.meta.dirname, 'sqlite.ts'));
/** Tries to open the store given in argv; exits 3 with the message when it is in use. */
const SECOND_OPENER = `
const { openSqliteStore } = await import(${SQLITE_TS});
try { await openSqliteStore({ path: process.argv[2] }); process.exit(0); }
catch (e) { console.log(e.message); process.exit(3); }`;
/** Issues 500 writes, closes without awaiting them, reopens and prints "<acked> <stored>"; must exit by itself. */
const CLOSE_WHILE_WRITING = `
const { openSqliteStore } = await import(${SQLITE_TS});
const path = process.argv[2];
const store = await openSqliteStore({ path });
let acked = 0;
for (let i = 0; i < 500; i++) store.create('/c/' + i, 'v').then(() => acked++);
await store.close();
const again = await openSqliteStore({ path });
console.log(acked, (await again.list('/c/')).items.length);
await again.close();`;

/** Writes a child script into a temp dir (not `node -e`: the writer worker inherits the flags). */
function script(text: string): string {
  const file = join(tempPath(), '..', `child-${dirs.length}.mjs`);
  writeFileSync(file, text);
  return file;
}

const fileSize = (path: string) => statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

describe('sqlite store', () => {
  test('group commit: 200 concurrent creates share few commits; a failing op fails alone', async () => {
    const { store } = await openTemp();
    await store.create('/g/dup', 'x');
    const before = store.stats().commits;
    const ops = Array.from({ length: 200 }, (_, i) => store.create(i === 100 ? '/g/dup' : `/g/${i}`, 'v'));
    const results = await Promise.allSettled(ops);
    const commits = store.stats().commits - before;
    assert.ok(commits <= 5, `expected grouping, got ${commits} commits`);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 199);
    const failed = results[100];
    assert.ok(failed.status === 'rejected' && failed.reason instanceof KeyExistsError);
    assert.equal((await store.list('/g/')).items.length, 200);
    assert.equal(await store.currentRevision(), 200);
    await store.close();
  });

  test('restart: reopen gives the same revisions, values and compaction floor', async () => {
    const { store, path } = await openTemp();
    const a = await store.create('/r/a', 'a1');
    const a2 = await store.update('/r/a', 'a2', a.modRevision);
    const b = await store.create('/r/b', 'b1');
    await store.delete('/r/b', b.modRevision);
    await store.compact(await store.currentRevision());
    const listed = await store.list('/r/');
    await store.close();

    const again = await openSqliteStore({ path });
    assert.equal(await again.currentRevision(), 4, 'revision survives even though the last row (a tombstone) is gone');
    assert.equal(await again.compactedRevision(), 4);
    assert.deepEqual(await again.list('/r/'), listed);
    assert.deepEqual(await again.get('/r/a'), a2);
    const c = await again.create('/r/b', 'b2');
    assert.equal(c.modRevision, 5);
    await again.close();
  });

  test('a second store on the same file is refused while the first is open, in this process and in another', async () => {
    const { store, path } = await openTemp();
    await store.create('/x', 'y');
    await assert.rejects(openSqliteStore({ path }), (e) => e instanceof StoreInUseError && e.path === path);
    const child = spawnSync(process.execPath, [script(SECOND_OPENER), path], { encoding: 'utf8' });
    assert.equal(child.status, 3, child.stderr);
    assert.match(child.stdout, /already in use by another skiff store/);
    assert.equal((await store.get('/x'))?.value, 'y', 'the owner is unaffected');
    await store.close();
    const again = await openSqliteStore({ path });
    assert.equal((await again.get('/x'))?.value, 'y', 'closing releases the lock');
    await again.close();
  });

  test('writes run in a worker: the event loop stays responsive and a read sees every acknowledged write', async () => {
    const { store } = await openTemp();
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    for (let round = 0; round < 20; round++) {
      const kvs = await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(`/rw/${round}/${i}`, 'v')));
      for (const kv of kvs) assert.deepEqual(await store.get(kv.key), kv);
      const listed = await store.list(`/rw/${round}/`);
      assert.equal(listed.items.length, 50);
      assert.ok(listed.revision >= kvs[kvs.length - 1].modRevision);
    }
    h.disable();
    assert.equal(store.stats().writes, 1000);
    await store.close();
  });

  test('close drains queued writes and lets the process exit', () => {
    const dir = join(tempPath(), '..');
    const child = spawnSync(process.execPath, [script(CLOSE_WHILE_WRITING), join(dir, 'c.db')], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), '500 500');
  });

  test('watch replays long histories in pages without gaps', async () => {
    const { store } = await openTemp();
    const N = 2500;
    await Promise.all(Array.from({ length: N }, (_, i) => store.create(`/p/${i}`, String(i))));
    const events = await takeEvents(store, '/p/', 0, N);
    assert.deepEqual(
      events.map((e) => e.kv.modRevision),
      Array.from({ length: N }, (_, i) => i + 1),
    );
    await store.close();
  });

  test('LIST of 10,000 values of 2 KB is fast', async () => {
    const { store } = await openTemp();
    const value = 'x'.repeat(2048);
    for (let i = 0; i < 10_000; i += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, j) => store.create(`/big/${String(i + j).padStart(5, '0')}`, value)),
      );
    }
    await store.create('/bigger/0', value);
    const t0 = performance.now();
    const res = await store.list('/big/');
    const ms = performance.now() - t0;
    assert.equal(res.items.length, 10_000);
    assert.ok(ms < 500, `list took ${ms.toFixed(0)} ms`);
    await store.close();
  });

  test('compaction really removes superseded rows and tombstones, and the file shrinks', async () => {
    const { store, path } = await openTemp();
    const big = 'z'.repeat(100_000);
    const kvs = await Promise.all(Array.from({ length: 200 }, (_, i) => store.create(`/f/${i}`, big)));
    await store.create('/f/keep', 'small');
    const kept = await store.update('/f/keep', 'small2', kvs.length + 1);
    await Promise.all(kvs.map((kv) => store.delete(kv.key)));
    await store.reclaimSpace();
    const grown = fileSize(path);
    assert.ok(grown > 20_000_000, `file is ${grown} bytes`);
    await store.compact(await store.currentRevision());
    await store.reclaimSpace();
    const shrunk = fileSize(path);
    assert.ok(shrunk < grown / 10, `file went from ${grown} to ${shrunk} bytes`);
    assert.deepEqual((await store.list('/f/')).items, [kept]);
    await store.close();
    const db = new DatabaseSync(path);
    assert.deepEqual(
      db
        .prepare('SELECT key, value FROM log')
        .all()
        .map((r) => ({ ...r })),
      [{ key: '/f/keep', value: 'small2' }],
    );
    db.close();
  });

  test('the compactor keeps the newest revisions and stops with its signal', async () => {
    const { store } = await openTemp();
    for (let i = 0; i < 30; i++) await store.create(`/k/${i}`, 'v');
    const ac = new AbortController();
    const compactor = startCompactor(store, { intervalMs: 10, keepRevisions: 10, signal: ac.signal });
    const deadline = Date.now() + 2000;
    while ((await store.compactedRevision()) < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await store.compactedRevision(), 20);
    assert.equal(await compactor.runOnce(), 20, 'nothing more to do until writes move on');
    ac.abort();
    await compactor.stopped;
    for (let i = 30; i < 40; i++) await store.create(`/k/${i}`, 'v');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await store.compactedRevision(), 20, 'a stopped compactor does nothing');
    assert.equal((await store.list('/k/')).items.length, 40);
    await store.close();
  });
});
