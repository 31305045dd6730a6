// Single-owner protection for a store file. The store needs two connections
// (a reader on the main thread, the writer in a worker), so SQLite's
// exclusive locking mode on the database itself is no longer possible.
// Instead the owner holds an exclusive SQLite lock on a small sidecar
// database (<path>.lock). It is a POSIX record lock, so the kernel drops it
// when the process dies, even by kill -9: no stale lock, no pid guessing.
// SQLite also tracks locks between connections of one process, so a second
// store on the same file fails inside one process as well as across two.
import { DatabaseSync } from 'node:sqlite';

export class StoreInUseError extends Error {
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(`${path} is already in use by another skiff store (lock ${path}.lock is held)`, { cause });
    this.path = path;
  }
}

export type OwnerLock = { release(): void };

/** Take the owner lock of the store at path, or throw StoreInUseError. */
export function acquireOwnerLock(path: string): OwnerLock {
  // timeout 0: fail at once rather than wait for the other owner to go.
  const db = new DatabaseSync(`${path}.lock`, { timeout: 0 });
  try {
    // In exclusive locking mode the first write takes an EXCLUSIVE lock and
    // keeps it until the connection closes.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL)');
    db.exec('DELETE FROM owner');
    db.prepare('INSERT INTO owner (pid) VALUES (?)').run(process.pid);
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if (/locked|busy/i.test(String((err as Error).message))) throw new StoreInUseError(path, err);
    throw err;
  }
  return { release: () => db.close() };
}
