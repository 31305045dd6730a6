// The default store backend: node:sqlite in WAL mode, synchronous=FULL, with
// group commit (writes that arrive together share one transaction and one
// fsync), in-memory watch fan-out, and replay of history from the log.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { initSchema, prefixBounds, prepareStatements, rowToEvent, rowToKv, type Statements } from './sqlite-schema.ts';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  type KeyValue,
  KeyNotFoundError,
  type ListOptions,
  type ListResult,
  RevisionMismatchError,
  type Store,
  type WatchEvent,
  type WatchOptions,
} from './types.ts';
import { DEFAULT_WATCH_QUEUE_LIMIT, WatchHub } from './watch-hub.ts';

/** Most ops in one group commit: bounds transaction size and event-loop pause. */
const DEFAULT_MAX_BATCH_OPS = 1000;
/** Rows fetched per replay query: keeps memory flat when a watcher starts far back. */
const REPLAY_PAGE_ROWS = 1000;
/** Revisions deleted per compaction transaction (kine uses 1000); bounds each pause. */
const COMPACT_CHUNK_REVISIONS = 5000;
/** Pages freed per incremental_vacuum step before yielding to the event loop. */
const VACUUM_STEP_PAGES = 2048;

export type SqliteStoreOptions = {
  /** Database file; its directory is created if missing. */
  path: string;
  /** Per-watcher queue bound in events; a watcher further behind is dropped. */
  watchQueueLimit?: number;
  /** Most writes grouped into one transaction. */
  maxBatchOps?: number;
};

export type SqliteStoreStats = {
  /** Write transactions committed (one fsync each). */
  commits: number;
  /** Writes that succeeded. */
  writes: number;
  /** Live watchers. */
  watchers: number;
};

export type SqliteStore = Store & {
  readonly path: string;
  stats(): SqliteStoreStats;
  /** Return freed pages to the filesystem: incremental vacuum, then truncate the WAL. */
  reclaimSpace(): Promise<void>;
};

type WriteRequest =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expected: number }
  | { kind: 'delete'; key: string; expected: number };
type WriteOp = WriteRequest & { resolve: (kv: KeyValue) => void; reject: (err: Error) => void };

const isRowFailure = (e: unknown) =>
  e instanceof KeyExistsError || e instanceof KeyNotFoundError || e instanceof RevisionMismatchError;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class SqliteStoreImpl implements SqliteStore {
  readonly path: string;
  #db: DatabaseSync;
  #s: Statements;
  #hub = new WatchHub();
  #watchQueueLimit: number;
  #maxBatchOps: number;
  /** Last committed revision (outside a flush, exactly what the database holds). */
  #rev: number;
  #compactRev: number;
  /** Log rows at or below this have been compacted (lags #compactRev after a crash mid-compaction). */
  #compactDone: number;
  #pending: WriteOp[] = [];
  #flushScheduled = false;
  #idle: (() => void)[] = [];
  #compacting: Promise<void> = Promise.resolve();
  #closed = false;
  #commits = 0;
  #writes = 0;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.#watchQueueLimit = options.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
    this.#maxBatchOps = options.maxBatchOps ?? DEFAULT_MAX_BATCH_OPS;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new DatabaseSync(options.path);
    initSchema(this.#db);
    this.#s = prepareStatements(this.#db);
    this.#compactRev = (this.#s.getMeta.get({ name: 'compact_rev' })?.value as number | undefined) ?? 0;
    this.#compactDone = (this.#s.getMeta.get({ name: 'compact_done' })?.value as number | undefined) ?? 0;
    // A compaction may have removed the newest rows (tombstones) up to compact_rev.
    this.#rev = Math.max(this.#s.maxRev.get()!.n as number, this.#compactRev);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.#checkOpen();
    const row = this.#s.get.get({ key });
    return row ? rowToKv(row) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.#checkOpen();
    const at = options.revision || this.#rev;
    if (at < this.#compactRev) throw new CompactedError(at, this.#compactRev);
    if (at > this.#rev) throw new FutureRevisionError(at, this.#rev);
    const latest = at === this.#rev;
    const { lo, hi } = prefixBounds(prefix);
    const limit = options.limit || -1;
    // node:sqlite rejects unknown named parameters, so `at` only goes to the history queries.
    const bounds = { lo, hi, after: options.startAfter ?? '' };
    const rows = latest ? this.#s.listLatest.all({ ...bounds, limit }) : this.#s.listAt.all({ ...bounds, limit, at });
    const items = rows.map(rowToKv);
    let remaining = 0;
    if (limit > 0 && items.length === limit) {
      const rest = { lo, hi, after: items[items.length - 1].key };
      remaining = (latest ? this.#s.countLatest.get(rest) : this.#s.countAt.get({ ...rest, at }))!.n as number;
    }
    return { items, revision: at, remaining };
  }

  create(key: string, value: string): Promise<KeyValue> {
    if (key === '') return Promise.reject(new TypeError('empty key'));
    return this.#enqueue({ kind: 'create', key, value });
  }

  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return this.#enqueue({ kind: 'update', key, value, expected: expectedModRevision });
  }

  delete(key: string, expectedModRevision = 0): Promise<KeyValue> {
    return this.#enqueue({ kind: 'delete', key, expected: expectedModRevision });
  }

  async *watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent[]> {
    this.#checkOpen();
    const { signal } = options;
    if (signal.aborted) return;
    if (options.afterRevision < this.#compactRev) throw new CompactedError(options.afterRevision, this.#compactRev);
    // Subscribe first, then replay up to the revision seen at subscription:
    // every later event is queued live, every earlier one comes from the log.
    const sub = this.#hub.subscribe(prefix, this.#watchQueueLimit);
    const upTo = this.#rev;
    const { lo, hi } = prefixBounds(prefix);
    try {
      let pos = options.afterRevision;
      while (pos < upTo) {
        if (signal.aborted || sub.closed) break;
        if (pos < this.#compactRev) throw new CompactedError(pos, this.#compactRev);
        const rows = this.#s.replay.all({ after: pos, upto: upTo, lo, hi, limit: REPLAY_PAGE_ROWS });
        pos = rows.length < REPLAY_PAGE_ROWS ? upTo : (rows[rows.length - 1].rev as number);
        if (rows.length > 0) yield rows.map(rowToEvent);
      }
      // Watching from a future revision: skip live events up to it.
      const skipTo = options.afterRevision > upTo ? options.afterRevision : 0;
      for (;;) {
        let batch = sub.take();
        if (skipTo > 0) batch = batch.filter((e) => e.kv.modRevision > skipTo);
        if (batch.length > 0) {
          yield batch;
          continue;
        }
        if (sub.error) throw sub.error;
        if (sub.closed || signal.aborted) return;
        await sub.wait(signal);
      }
    } finally {
      sub.close();
    }
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen();
    return this.#rev;
  }

  async compactedRevision(): Promise<number> {
    this.#checkOpen();
    return this.#compactRev;
  }

  compact(revision: number): Promise<void> {
    const run = this.#compacting.then(() => this.#compact(revision));
    this.#compacting = run.catch(() => {});
    return run;
  }

  async reclaimSpace(): Promise<void> {
    this.#checkOpen();
    await this.#compacting;
    while (!this.#closed && (this.#s.freelistCount.get()!.freelist_count as number) > 0) {
      this.#db.exec(`PRAGMA incremental_vacuum(${VACUUM_STEP_PAGES})`);
      await yieldToLoop();
    }
    if (!this.#closed) this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  stats(): SqliteStoreStats {
    return { commits: this.#commits, writes: this.#writes, watchers: this.#hub.size };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#pending.length > 0 || this.#flushScheduled) await new Promise<void>((r) => this.#idle.push(r));
    await this.#compacting;
    this.#closed = true;
    this.#hub.closeAll();
    this.#db.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('store is closed');
  }

  #enqueue(op: WriteRequest): Promise<KeyValue> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ ...op, resolve, reject });
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // setImmediate runs after this turn's I/O callbacks, so every write that
    // arrives in the same turn (or while the previous fsync blocked the
    // thread) joins one transaction.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const ops = this.#pending.splice(0, this.#maxBatchOps);
    if (this.#pending.length > 0) this.#scheduleFlush();
    const startRev = this.#rev;
    const results: (KeyValue | Error)[] = [];
    const events: WatchEvent[] = [];
    try {
      this.#s.begin.run();
      for (const op of ops) {
        try {
          const event = this.#apply(op);
          events.push(event);
          results.push(event.kv);
        } catch (err) {
          if (!isRowFailure(err)) throw err;
          results.push(err as Error);
        }
      }
      this.#s.commit.run();
    } catch (err) {
      // Unexpected (I/O, disk full): nothing of this batch is durable.
      if (this.#db.isTransaction) this.#s.rollback.run();
      this.#rev = startRev;
      for (const op of ops) op.reject(err as Error);
      this.#notifyIdle();
      return;
    }
    this.#commits++;
    this.#writes += events.length;
    this.#hub.publish(events);
    ops.forEach((op, i) => {
      const r = results[i];
      if (r instanceof Error) op.reject(r);
      else op.resolve(r);
    });
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (this.#pending.length > 0 || this.#flushScheduled) return;
    for (const r of this.#idle.splice(0)) r();
  }

  /** One write inside the open transaction; throws a row failure without touching the database. */
  #apply(op: WriteOp): WatchEvent {
    const row = this.#s.get.get({ key: op.key });
    const cur = row ? rowToKv(row) : undefined;
    if (op.kind === 'create') {
      if (cur) throw new KeyExistsError(op.key);
      const rev = this.#rev + 1;
      this.#s.insertLog.run({ rev, key: op.key, create_rev: rev, prev_rev: 0, deleted: 0, value: op.value });
      this.#s.setCurrent.run({ key: op.key, rev });
      this.#rev = rev;
      return { type: 'create', kv: { key: op.key, value: op.value, createRevision: rev, modRevision: rev } };
    }
    if (!cur) throw new KeyNotFoundError(op.key);
    if (op.kind === 'update' ? cur.modRevision !== op.expected : op.expected !== 0 && cur.modRevision !== op.expected) {
      throw new RevisionMismatchError(op.key, cur);
    }
    const rev = this.#rev + 1;
    const value = op.kind === 'update' ? op.value : cur.value;
    const deleted = op.kind === 'delete' ? 1 : 0;
    const base = { key: op.key, create_rev: cur.createRevision, prev_rev: cur.modRevision };
    this.#s.insertLog.run({ ...base, rev, deleted, value });
    if (deleted) this.#s.deleteCurrent.run({ key: op.key });
    else this.#s.setCurrent.run({ key: op.key, rev });
    this.#rev = rev;
    const kv = { key: op.key, value, createRevision: cur.createRevision, modRevision: rev };
    return { type: op.kind, kv, prev: cur };
  }

  async #compact(revision: number): Promise<void> {
    this.#checkOpen();
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    if (revision <= this.#compactRev && this.#compactDone >= this.#compactRev) return;
    const target = Math.max(revision, this.#compactRev);
    // Publish the new floor first: from here on nobody reads below it, so the
    // chunks below may delete in any number of steps (and resume after a crash).
    this.#s.setMeta.run({ name: 'compact_rev', value: target });
    this.#compactRev = target;
    for (let lo = this.#compactDone; lo < target; lo += COMPACT_CHUNK_REVISIONS) {
      const hi = Math.min(lo + COMPACT_CHUNK_REVISIONS, target);
      this.#s.begin.run();
      try {
        this.#s.compactRange.run({ lo, hi, target });
        this.#s.setMeta.run({ name: 'compact_done', value: hi });
        this.#s.commit.run();
        this.#compactDone = hi;
      } catch (err) {
        this.#s.rollback.run();
        throw err;
      }
      await yieldToLoop();
    }
  }
}

/** Open (creating if needed) a sqlite-backed store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  return new SqliteStoreImpl(options);
}
