// Public surface of the store.
export * from './types.ts';
export { openSqliteStore, type SqliteStore, type SqliteStoreOptions, type SqliteStoreStats } from './sqlite.ts';
export {
  startCompactor,
  type Compactor,
  type CompactorOptions,
  DEFAULT_COMPACT_INTERVAL_MS,
  DEFAULT_KEEP_REVISIONS,
} from './compactor.ts';
export { DEFAULT_WATCH_QUEUE_LIMIT } from './watch-hub.ts';
