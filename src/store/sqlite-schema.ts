// SQLite layout of the store (kine's shape): an append-only `log` of every
// version and tombstone, `current` indexing the live version of each key, and
// `meta` for the compacted revision. Revisions are assigned by the store, not
// by rowid allocation, so compaction can never cause a revision to be reused.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { KeyValue, WatchEvent } from './types.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  rev INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  prev_rev INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_rev ON log (key, rev);
CREATE TABLE IF NOT EXISTS current (key TEXT PRIMARY KEY, rev INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Persistent pragmas and tables; auto_vacuum must precede the first table to take effect. */
export function initSchema(db: DatabaseSync): void {
  db.exec('PRAGMA auto_vacuum = INCREMENTAL');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(SCHEMA);
}

/**
 * WAL bytes kept on disk after a checkpoint resets the log, so one burst does
 * not leave a huge -wal file behind (SQLite truncates it back to this).
 */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Per-connection settings of the one connection that writes (in the writer worker). */
export function initWriter(db: DatabaseSync): void {
  // FULL: every commit fsyncs the WAL, so an acknowledged write survives power loss.
  db.exec('PRAGMA synchronous = FULL');
  // The writer checkpoints explicitly, after acknowledging a batch, instead of
  // inside whichever COMMIT happens to cross the threshold.
  db.exec('PRAGMA wal_autocheckpoint = 0');
  db.exec(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
}

const KV_COLS = 'l.key AS key, l.value AS value, l.create_rev AS create_rev, l.rev AS rev';
// Range bounds: key >= :lo AND key < :hi AND key > :after (see prefixBounds).
const RANGE = 'key >= :lo AND key < :hi AND key > :after';

export function prepareStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql);
  return {
    begin: p('BEGIN IMMEDIATE'),
    /** A read snapshot: several queries that must agree (list + count, head + replay). */
    beginRead: p('BEGIN'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),
    get: p(`SELECT ${KV_COLS} FROM current c JOIN log l ON l.rev = c.rev WHERE c.key = :key`),
    insertLog: p(
      'INSERT INTO log (rev, key, create_rev, prev_rev, deleted, value) ' +
        'VALUES (:rev, :key, :create_rev, :prev_rev, :deleted, :value)',
    ),
    setCurrent: p(
      'INSERT INTO current (key, rev) VALUES (:key, :rev) ON CONFLICT (key) DO UPDATE SET rev = excluded.rev',
    ),
    deleteCurrent: p('DELETE FROM current WHERE key = :key'),
    listLatest: p(
      `SELECT ${KV_COLS} FROM current c JOIN log l ON l.rev = c.rev WHERE c.key >= :lo AND c.key < :hi AND c.key > :after ` +
        'ORDER BY c.key LIMIT :limit',
    ),
    countLatest: p(`SELECT count(*) AS n FROM current WHERE ${RANGE}`),
    // Latest row per key at or below :at, dropped when that row is a tombstone.
    listAt: p(
      `SELECT ${KV_COLS} FROM (SELECT max(rev) AS rev FROM log WHERE ${RANGE} AND rev <= :at GROUP BY key) m ` +
        'JOIN log l ON l.rev = m.rev WHERE l.deleted = 0 ORDER BY l.key LIMIT :limit',
    ),
    countAt: p(
      `SELECT count(*) AS n FROM (SELECT max(rev) AS rev FROM log WHERE ${RANGE} AND rev <= :at GROUP BY key) m ` +
        'JOIN log l ON l.rev = m.rev WHERE l.deleted = 0',
    ),
    replay: p(
      'SELECT l.rev AS rev, l.key AS key, l.value AS value, l.create_rev AS create_rev, l.prev_rev AS prev_rev, ' +
        'l.deleted AS deleted, p.value AS prev_value FROM log l LEFT JOIN log p ON p.rev = l.prev_rev AND l.deleted = 0 ' +
        'WHERE l.rev > :after AND l.rev <= :upto AND l.key >= :lo AND l.key < :hi ORDER BY l.rev LIMIT :limit',
    ),
    maxRev: p('SELECT coalesce(max(rev), 0) AS n FROM log'),
    /** Newest revision and compaction floor in one query (the floor can exceed max(rev): tombstones go). */
    head: p(
      "SELECT coalesce((SELECT max(rev) FROM log), 0) AS rev, coalesce((SELECT value FROM meta WHERE name = 'compact_rev'), 0) AS compact_rev",
    ),
    getMeta: p('SELECT value FROM meta WHERE name = :name'),
    setMeta: p(
      'INSERT INTO meta (name, value) VALUES (:name, :value) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    ),
    // kine's compaction: drop tombstones and every version superseded by a
    // newer one at or below the target; the latest version of live keys stays.
    compactRange: p(
      'DELETE FROM log WHERE rev > :lo AND rev <= :hi AND (deleted = 1 OR EXISTS ' +
        '(SELECT 1 FROM log n WHERE n.key = log.key AND n.rev > log.rev AND n.rev <= :target))',
    ),
    freelistCount: p('PRAGMA freelist_count'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

type Row = Record<string, unknown>;

export function rowToKv(row: Row): KeyValue {
  return {
    key: row.key as string,
    value: row.value as string,
    createRevision: row.create_rev as number,
    modRevision: row.rev as number,
  };
}

export function rowToEvent(row: Row): WatchEvent {
  const kv = rowToKv(row);
  if (row.deleted === 1) {
    return { type: 'delete', kv, prev: { ...kv, modRevision: row.prev_rev as number } };
  }
  if (kv.createRevision === kv.modRevision) return { type: 'create', kv };
  const prev = {
    key: kv.key,
    value: row.prev_value as string,
    createRevision: kv.createRevision,
    modRevision: row.prev_rev as number,
  };
  return { type: 'update', kv, prev };
}

/** Sorts after every TEXT value in SQLite (BLOBs compare greater than TEXT). */
const AFTER_ALL_TEXT = new Uint8Array([0xff]);

/**
 * SQLite compares TEXT as UTF-8 bytes, i.e. by code point, so every key with
 * the prefix lies in [prefix, prefix with its last code point + 1).
 */
export function prefixBounds(prefix: string): { lo: string; hi: string | Uint8Array } {
  const cps = [...prefix];
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    // Skip the surrogate gap; past U+10FFFF there is nothing, so shorten.
    const next = last === 0xd7ff ? 0xe000 : last + 1;
    if (next <= 0x10ffff) return { lo: prefix, hi: cps.join('') + String.fromCodePoint(next) };
  }
  return { lo: prefix, hi: AFTER_ALL_TEXT };
}
