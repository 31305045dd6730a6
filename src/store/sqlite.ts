// The default store backend: node:sqlite in WAL mode, synchronous=FULL, with
// group commit (writes that arrive together share one transaction and one
// fsync), in-memory watch fan-out, and replay of history from the log.
//
// Threads: a worker (sqlite-writer.ts) owns the only writing connection and
// also runs compaction, vacuum and WAL checkpoints, so no fsync ever blocks
// this event loop. This thread keeps a read-only connection for get, list and
// watch replay (WAL gives each read a consistent snapshot without blocking the
// writer), queues writes while a batch is in flight, and publishes each
// acknowledged batch to the watch hub in revision order.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { acquireOwnerLock, type OwnerLock } from './sqlite-lock.ts';
import { fromWire, type WriteRequest } from './sqlite-protocol.ts';
import { initSchema, prefixBounds, prepareStatements, rowToEvent, rowToKv, type Statements } from './sqlite-schema.ts';
import { WriterClient } from './sqlite-writer-client.ts';
import {
  CompactedError,
  FutureRevisionError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type WatchEvent,
  type WatchOptions,
} from './types.ts';
import { DEFAULT_WATCH_QUEUE_LIMIT, WatchHub } from './watch-hub.ts';

/** Most ops in one group commit: bounds transaction size and how long the writer is busy. */
const DEFAULT_MAX_BATCH_OPS = 1000;
/** Rows fetched per replay query: keeps memory flat when a watcher starts far back. */
const REPLAY_PAGE_ROWS = 1000;
/**
 * A read waits this long if it meets the writer mid-checkpoint-restart (rare,
 * brief); WAL readers otherwise never wait for the writer.
 */
const READ_BUSY_TIMEOUT_MS = 1000;

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

type WriteOp = WriteRequest & { resolve: (kv: KeyValue) => void; reject: (err: Error) => void };
type Head = { rev: number; compactRev: number };

class SqliteStoreImpl implements SqliteStore {
  readonly path: string;
  #lock: OwnerLock;
  #db: DatabaseSync;
  #s: Statements;
  #writer: WriterClient;
  #hub = new WatchHub();
  #watchQueueLimit: number;
  #maxBatchOps: number;
  /** Newest revision published to the hub (the writer may already be further). */
  #rev: number;
  #pending: WriteOp[] = [];
  #flushScheduled = false;
  #inFlight = false;
  #idle: (() => void)[] = [];
  /** Compactions and vacuums the writer has not finished yet. */
  #jobs = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #commits = 0;
  #writes = 0;

  constructor(
    options: SqliteStoreOptions,
    parts: { lock: OwnerLock; db: DatabaseSync; writer: WriterClient; rev: number },
  ) {
    this.path = options.path;
    this.#watchQueueLimit = options.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
    this.#maxBatchOps = options.maxBatchOps ?? DEFAULT_MAX_BATCH_OPS;
    this.#lock = parts.lock;
    this.#db = parts.db;
    this.#s = prepareStatements(this.#db);
    this.#writer = parts.writer;
    this.#rev = parts.rev;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.#checkOpen();
    const row = this.#s.get.get({ key });
    return row ? rowToKv(row) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.#checkOpen();
    return this.#snapshot((head) => {
      // The snapshot may already hold batches the hub has not published yet:
      // the list is exact at head.rev, and a watch from there skips up to it.
      const at = options.revision || head.rev;
      if (at < head.compactRev) throw new CompactedError(at, head.compactRev);
      if (at > head.rev) throw new FutureRevisionError(at, head.rev);
      const latest = at === head.rev;
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
    });
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
    const floor = this.#head().compactRev;
    if (options.afterRevision < floor) throw new CompactedError(options.afterRevision, floor);
    // Subscribe first, then replay up to the revision published at subscription:
    // every later event is queued live, every earlier one comes from the log.
    const sub = this.#hub.subscribe(prefix, this.#watchQueueLimit);
    const upTo = this.#rev;
    const { lo, hi } = prefixBounds(prefix);
    try {
      let pos = options.afterRevision;
      while (pos < upTo) {
        if (signal.aborted || sub.closed) break;
        const from = pos;
        // The floor is read in the same snapshot as the page: the writer may be compacting meanwhile.
        const rows = this.#snapshot((head) => {
          if (from < head.compactRev) throw new CompactedError(from, head.compactRev);
          return this.#s.replay.all({ after: from, upto: upTo, lo, hi, limit: REPLAY_PAGE_ROWS });
        });
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
    return Math.max(this.#head().rev, this.#rev);
  }

  async compactedRevision(): Promise<number> {
    this.#checkOpen();
    return this.#head().compactRev;
  }

  compact(revision: number): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    return this.#job(this.#writer.compact(revision));
  }

  reclaimSpace(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    return this.#job(this.#writer.reclaim());
  }

  stats(): SqliteStoreStats {
    return { commits: this.#commits, writes: this.#writes, watchers: this.#hub.size };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#pending.length > 0 || this.#flushScheduled || this.#inFlight) {
      await new Promise<void>((r) => this.#idle.push(r));
    }
    await Promise.allSettled([...this.#jobs]);
    this.#closed = true;
    this.#hub.closeAll();
    // The reader goes first, so the writer is the last connection and its
    // final checkpoint (and WAL removal) happens off this thread.
    this.#db.close();
    await this.#writer.close();
    this.#lock.release();
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('store is closed');
  }

  /** Newest revision and compaction floor as the reader sees them now. */
  #head(): Head {
    const row = this.#s.head.get()!;
    const compactRev = row.compact_rev as number;
    return { rev: Math.max(row.rev as number, compactRev), compactRev };
  }

  /** Run reads in one snapshot (a deferred read transaction), told its head. */
  #snapshot<T>(read: (head: Head) => T): T {
    this.#s.beginRead.run();
    try {
      return read(this.#head());
    } finally {
      this.#s.commit.run();
    }
  }

  #job<T>(run: Promise<T>): Promise<T> {
    this.#jobs.add(run);
    const forget = () => this.#jobs.delete(run);
    run.then(forget, forget);
    return run;
  }

  #enqueue(op: WriteRequest): Promise<KeyValue> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ ...op, resolve, reject } as WriteOp);
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#inFlight) return;
    this.#flushScheduled = true;
    // setImmediate runs after this turn's I/O callbacks, so every write that
    // arrives in the same turn (or while the previous batch was committing)
    // joins one transaction.
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const ops = this.#pending.splice(0, this.#maxBatchOps);
    if (ops.length === 0) return this.#notifyIdle();
    this.#inFlight = true;
    try {
      const { events, failures } = await this.#writer.batch(ops.map(toRequest));
      this.#commits++;
      this.#writes += events.length;
      if (events.length > 0) this.#rev = events[events.length - 1].kv.modRevision;
      this.#hub.publish(events);
      const failed = new Map(failures.map((f) => [f.index, f.error]));
      let next = 0;
      ops.forEach((op, i) => {
        const err = failed.get(i);
        if (err) op.reject(fromWire(err));
        else op.resolve(events[next++].kv);
      });
    } catch (err) {
      // Unexpected (I/O, disk full, writer gone): nothing of this batch is durable.
      for (const op of ops) op.reject(err as Error);
    } finally {
      this.#inFlight = false;
    }
    if (this.#pending.length > 0) this.#scheduleFlush();
    else this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (this.#pending.length > 0 || this.#flushScheduled || this.#inFlight) return;
    for (const r of this.#idle.splice(0)) r();
  }
}

const toRequest = (op: WriteOp): WriteRequest =>
  op.kind === 'create'
    ? { kind: 'create', key: op.key, value: op.value }
    : op.kind === 'update'
      ? { kind: 'update', key: op.key, value: op.value, expected: op.expected }
      : { kind: 'delete', key: op.key, expected: op.expected };

/** Open (creating if needed) a sqlite-backed store; fails with StoreInUseError if another store has the file. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  // Two connections (reader here, writer in a worker) cannot share a private in-memory database.
  if (options.path === ':memory:' || options.path === '') throw new TypeError('sqlite store needs a file path');
  mkdirSync(dirname(options.path), { recursive: true });
  const lock = acquireOwnerLock(options.path);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(options.path, { timeout: READ_BUSY_TIMEOUT_MS });
    initSchema(db);
    // This connection only reads; writes go through the worker.
    db.exec('PRAGMA query_only = 1');
    const { client, rev } = await WriterClient.start(options.path);
    return new SqliteStoreImpl(options, { lock, db, writer: client, rev });
  } catch (err) {
    db?.close();
    lock.release();
    throw err;
  }
}
