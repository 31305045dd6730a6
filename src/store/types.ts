// The store: a revisioned key-value log with watch, in kine's shape.
// Every backend (sqlite now, etcd later) implements Store and passes the
// contract suite in contract.ts.

/** One live version of a key. Revisions are global and strictly increasing. */
export type KeyValue = {
  key: string;
  value: string;
  /** Revision at which this key was (last) created. */
  createRevision: number;
  /** Revision of this version. */
  modRevision: number;
};

export type WatchEvent = {
  type: 'create' | 'update' | 'delete';
  /** The new version; for a delete, the last live version with modRevision = the delete's revision. */
  kv: KeyValue;
  /** The version before this event (absent for a create). */
  prev?: KeyValue;
};

export type ListOptions = {
  /** Read as of this revision (0 or absent: latest). Older than compaction: CompactedError. */
  revision?: number;
  /** At most this many items (0 or absent: all). */
  limit?: number;
  /** Start after this key (exclusive), for pagination. */
  startAfter?: string;
};

export type ListResult = {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** Items under the prefix after the last one returned. */
  remaining: number;
};

export type WatchOptions = {
  /** Deliver every event with revision > afterRevision (replay, then live). */
  afterRevision: number;
  signal: AbortSignal;
};

export interface Store {
  get(key: string): Promise<KeyValue | undefined>;
  /** Keys that start with prefix, in key order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Fails with KeyExistsError when the key is live. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Fails with KeyNotFoundError, or RevisionMismatchError when modRevision differs. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /**
   * Deletes and returns the last version, with modRevision = the delete's
   * revision (as in the delete WatchEvent's kv). expectedModRevision 0 means any.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /**
   * Batches of events in revision order, no gaps, no duplicates. Throws
   * CompactedError when afterRevision is older than the compaction, and
   * WatcherOverflowError when the consumer falls too far behind.
   */
  watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent[]>;
  currentRevision(): Promise<number>;
  /** The oldest revision still readable (reads below it are Gone). */
  compactedRevision(): Promise<number>;
  /** Forget history at and below revision (latest version of each key stays). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

export class KeyExistsError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`key exists: ${key}`);
    this.key = key;
  }
}

export class KeyNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`key not found: ${key}`);
    this.key = key;
  }
}

export class RevisionMismatchError extends Error {
  readonly key: string;
  readonly current: KeyValue;
  constructor(key: string, current: KeyValue) {
    super(`revision mismatch on ${key}: now at ${current.modRevision}`);
    this.key = key;
    this.current = current;
  }
}

export class CompactedError extends Error {
  readonly compactedRevision: number;
  constructor(requested: number, compactedRevision: number) {
    super(`revision ${requested} has been compacted (oldest is ${compactedRevision})`);
    this.compactedRevision = compactedRevision;
  }
}

/** A read or compaction asked for a revision the store has not reached yet. */
export class FutureRevisionError extends Error {
  readonly currentRevision: number;
  constructor(requested: number, currentRevision: number) {
    super(`revision ${requested} is in the future (current is ${currentRevision})`);
    this.currentRevision = currentRevision;
  }
}

export class WatcherOverflowError extends Error {
  constructor() {
    super('watcher fell too far behind and was dropped');
  }
}
