// The sqlite store's writer, run as a worker thread: it owns the only
// connection that writes. Each batch is one transaction (ops checked one by
// one; a failing op fails alone and takes no revision) and one fsync; the
// reply goes back only after COMMIT. Compaction, incremental vacuum and WAL
// checkpoints run here too, so none of them ever blocks the API server's
// event loop. Messages are handled one at a time; long jobs yield between
// chunks so batches interleave with them.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { BatchReply, FromWriter, ToWriter, WireError, WriteRequest, WriterInit } from './sqlite-protocol.ts';
import { toWire } from './sqlite-protocol.ts';
import { initWriter, prepareStatements, rowToKv, type Statements } from './sqlite-schema.ts';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError, type WatchEvent } from './types.ts';

/** Revisions deleted per compaction transaction (kine uses 1000); bounds how long a batch waits behind it. */
const COMPACT_CHUNK_REVISIONS = 5000;
/** Pages freed per incremental_vacuum step before letting waiting batches in. */
const VACUUM_STEP_PAGES = 2048;
/** WAL pages that trigger a checkpoint after a batch: SQLite's own autocheckpoint default. */
const CHECKPOINT_PAGES = 1000;
/** Idle time after which any WAL content is checkpointed, so a quiet store keeps a short log. */
const CHECKPOINT_IDLE_MS = 200;
/** Waits for a TRUNCATE checkpoint or vacuum when a reader on the main thread is mid-query. */
const BUSY_TIMEOUT_MS = 5000;
/** Page size assumed when estimating WAL growth (SQLite's default). */
const PAGE_BYTES = 4096;
/** Pages a commit rewrites besides the values: log and index leaves, current, WAL header slack. */
const PAGES_PER_COMMIT = 3;

const isRowFailure = (e: unknown) =>
  e instanceof KeyExistsError || e instanceof KeyNotFoundError || e instanceof RevisionMismatchError;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

class Writer {
  #db: DatabaseSync;
  #s: Statements;
  #rev: number;
  #compactRev: number;
  #compactDone: number;
  /** Estimated WAL pages written since the last checkpoint. */
  #walPages = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Compaction and vacuum run one after another, in request order. */
  #jobs: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.#db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
    initWriter(this.#db);
    this.#s = prepareStatements(this.#db);
    const meta = (name: string) => (this.#s.getMeta.get({ name })?.value as number | undefined) ?? 0;
    this.#compactRev = meta('compact_rev');
    this.#compactDone = meta('compact_done');
    // A compaction may have removed the newest rows (tombstones) up to compact_rev.
    this.#rev = Math.max(this.#s.maxRev.get()!.n as number, this.#compactRev);
  }

  get rev(): number {
    return this.#rev;
  }

  batch(ops: WriteRequest[]): BatchReply {
    const startRev = this.#rev;
    const events: WatchEvent[] = [];
    const failures: BatchReply['failures'] = [];
    let bytes = 0;
    try {
      this.#s.begin.run();
      ops.forEach((op, index) => {
        try {
          events.push(this.#apply(op));
          bytes += op.key.length + (op.kind === 'delete' ? 0 : op.value.length);
        } catch (err) {
          if (!isRowFailure(err)) throw err;
          failures.push({ index, error: toWire(err) });
        }
      });
      this.#s.commit.run();
    } catch (err) {
      // Unexpected (I/O, disk full): nothing of this batch is durable.
      if (this.#db.isTransaction) this.#s.rollback.run();
      this.#rev = startRev;
      throw err;
    }
    this.#walPages += PAGES_PER_COMMIT + Math.ceil(bytes / PAGE_BYTES);
    return { events, failures };
  }

  /** After a reply went out: checkpoint now if the log is long, else once the writer falls idle. */
  afterWrite(): void {
    clearTimeout(this.#idleTimer);
    if (this.#walPages >= CHECKPOINT_PAGES) setImmediate(() => this.#checkpoint('PASSIVE'));
    else if (this.#walPages > 0) this.#idleTimer = setTimeout(() => this.#checkpoint('PASSIVE'), CHECKPOINT_IDLE_MS);
  }

  compact(revision: number): Promise<WireError | undefined> {
    const run = this.#jobs.then(() => this.#compact(revision));
    this.#jobs = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  reclaim(): Promise<void> {
    const run = this.#jobs.then(() => this.#reclaim());
    this.#jobs = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    await this.#jobs;
    clearTimeout(this.#idleTimer);
    this.#db.close();
  }

  #checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void {
    if (!this.#db.isOpen || this.#db.isTransaction) return;
    this.#db.exec(`PRAGMA wal_checkpoint(${mode})`);
    this.#walPages = 0;
  }

  /** One write inside the open transaction; throws a row failure without touching the database. */
  #apply(op: WriteRequest): WatchEvent {
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

  async #compact(revision: number): Promise<WireError | undefined> {
    if (revision > this.#rev) return { kind: 'future', requested: revision, current: this.#rev };
    if (revision <= this.#compactRev && this.#compactDone >= this.#compactRev) return undefined;
    const target = Math.max(revision, this.#compactRev);
    // Publish the new floor first: from here on nobody reads below it (readers
    // check it in the same snapshot), so the chunks below may delete in any
    // number of steps (and resume after a crash).
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
      this.#walPages += COMPACT_CHUNK_REVISIONS / 10;
      await yieldToLoop();
    }
    return undefined;
  }

  async #reclaim(): Promise<void> {
    while (this.#db.isOpen && (this.#s.freelistCount.get()!.freelist_count as number) > 0) {
      this.#db.exec(`PRAGMA incremental_vacuum(${VACUUM_STEP_PAGES})`);
      await yieldToLoop();
    }
    this.#checkpoint('TRUNCATE');
  }
}

const port = parentPort!;
const post = (m: FromWriter) => port.postMessage(m);
let writer: Writer;
try {
  writer = new Writer((workerData as WriterInit).path);
  post({ type: 'ready', rev: writer.rev });
} catch (err) {
  post({ type: 'open-failed', error: toWire(err) });
  port.close();
}

async function handle(m: ToWriter): Promise<void> {
  try {
    switch (m.type) {
      case 'batch':
        post({ type: 'reply', id: m.id, batch: writer.batch(m.ops) });
        writer.afterWrite();
        return;
      case 'compact': {
        const refused = await writer.compact(m.revision);
        post(refused ? { type: 'failed', id: m.id, error: refused } : { type: 'reply', id: m.id });
        return;
      }
      case 'reclaim':
        await writer.reclaim();
        post({ type: 'reply', id: m.id });
        return;
      case 'close':
        await writer.close();
        post({ type: 'reply', id: m.id });
        port.close();
        return;
    }
  } catch (err) {
    post({ type: 'failed', id: m.id, error: toWire(err) });
  }
}

port.on('message', (m: ToWriter) => void handle(m));
