// Messages between the sqlite store (main thread) and its writer worker.
// Errors cross the thread boundary as plain data and become the store's
// typed errors again on the main thread (structured clone keeps no classes).
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type KeyValue,
  RevisionMismatchError,
  type WatchEvent,
} from './types.ts';

export type WriteRequest =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expected: number }
  | { kind: 'delete'; key: string; expected: number };

export type WriterInit = { path: string };

export type ToWriter =
  | { type: 'batch'; id: number; ops: WriteRequest[] }
  | { type: 'compact'; id: number; revision: number }
  | { type: 'reclaim'; id: number }
  | { type: 'close'; id: number };

export type WireError =
  | { kind: 'exists'; key: string }
  | { kind: 'notfound'; key: string }
  | { kind: 'mismatch'; key: string; current: KeyValue }
  | { kind: 'future'; requested: number; current: number }
  | { kind: 'compacted'; requested: number; compacted: number }
  | { kind: 'other'; message: string };

/** One committed batch: events of the ops that succeeded, in op (= revision) order. */
export type BatchReply = { events: WatchEvent[]; failures: { index: number; error: WireError }[] };

export type FromWriter =
  | { type: 'ready'; rev: number }
  | { type: 'open-failed'; error: WireError }
  | { type: 'reply'; id: number; batch?: BatchReply }
  | { type: 'failed'; id: number; error: WireError };

/** Row failures keep their type; anything else travels as its message. */
export function toWire(err: unknown): WireError {
  if (err instanceof KeyExistsError) return { kind: 'exists', key: err.key };
  if (err instanceof KeyNotFoundError) return { kind: 'notfound', key: err.key };
  if (err instanceof RevisionMismatchError) return { kind: 'mismatch', key: err.key, current: err.current };
  return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
}

export function fromWire(e: WireError): Error {
  switch (e.kind) {
    case 'exists':
      return new KeyExistsError(e.key);
    case 'notfound':
      return new KeyNotFoundError(e.key);
    case 'mismatch':
      return new RevisionMismatchError(e.key, e.current);
    case 'future':
      return new FutureRevisionError(e.requested, e.current);
    case 'compacted':
      return new CompactedError(e.requested, e.compacted);
    default:
      return new Error(e.message);
  }
}
