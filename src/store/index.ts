// Public surface of the store.
//
// How the API server maps Kubernetes onto it:
// - an object's metadata.resourceVersion = its modRevision as a decimal string;
// - a list's resourceVersion = ListResult.revision (the revision it was read at);
//   continue tokens carry (revision, last key) and page with startAfter;
// - "watch from resourceVersion N" = watch(prefix, { afterRevision: N });
// - CompactedError → 410 Gone (Expired), FutureRevisionError → 504 Too large
//   resource version, WatcherOverflowError → end the watch so the client re-lists.
export * from './types.ts';
export { openSqliteStore, type SqliteStore, type SqliteStoreOptions, type SqliteStoreStats } from './sqlite.ts';
export { StoreInUseError } from './sqlite-lock.ts';
export {
  startCompactor,
  type Compactor,
  type CompactorOptions,
  DEFAULT_COMPACT_INTERVAL_MS,
  DEFAULT_KEEP_REVISIONS,
} from './compactor.ts';
export { DEFAULT_WATCH_QUEUE_LIMIT } from './watch-hub.ts';
