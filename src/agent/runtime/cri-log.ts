// Container log files in the CRI format the kubelet reads back:
//   <RFC3339Nano> <stdout|stderr> <F|P> <text>
// one entry per line ("P" = partial: the line continues in the next entry).
// The writer rotates by size as the kubelet does; readers list the files
// oldest → newest and follow the current one across rotation.
import { watch } from 'node:fs';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** kubelet's containerLogMaxSize default (10Mi): rotate the current file beyond this. */
export const CONTAINER_LOG_MAX_SIZE = 10 * 1024 * 1024;
/** kubelet's containerLogMaxFiles default: the current file plus 4 rotated ones. */
export const CONTAINER_LOG_MAX_FILES = 5;
/** containerd's maxContainerLogLineSize: longer lines are split into "P" entries. */
export const MAX_LOG_LINE = 16 * 1024;
/** How often a follower looks for new data when no file event woke it (events can be missed). */
const FOLLOW_POLL_MS = 250;
/** Read size for followers. */
const READ_CHUNK = 64 * 1024;

export type LogStream = 'stdout' | 'stderr';

let lastNanos = 0n;
/** Wall-clock time in RFC3339 with nanoseconds, strictly increasing within this process. */
export function criTimestamp(): string {
  const ms = BigInt(Date.now());
  let ns = ms * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (ns <= lastNanos) ns = lastNanos + 1n;
  lastNanos = ns;
  const iso = new Date(Number(ns / 1_000_000n)).toISOString(); // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** One CRI log entry (with its trailing newline). */
export function formatCriLine(time: string, stream: LogStream, partial: boolean, content: Buffer | string): Buffer {
  return Buffer.concat([
    Buffer.from(`${time} ${stream} ${partial ? 'P' : 'F'} `),
    Buffer.from(content),
    Buffer.from('\n'),
  ]);
}

export type CriEntry = { time: string; stream: LogStream; partial: boolean; content: string };

/** Parses one CRI log line (without its newline); undefined for malformed lines. */
export function parseCriLine(line: string): CriEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/s.exec(line);
  if (!m) return undefined;
  return { time: m[1], stream: m[2] as LogStream, partial: m[3] === 'P', content: m[4] };
}

/** kubelet's rotated-file suffix format (20060102-150405, UTC). */
function rotationStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

type Dated = { path: string; mtime: bigint };
/** Oldest first: by modification time (ns), then by name with "-10" after "-9". */
function byAge(a: Dated, b: Dated): number {
  if (a.mtime !== b.mtime) return a.mtime < b.mtime ? -1 : 1;
  return a.path.localeCompare(b.path, 'en', { numeric: true });
}

/** Rotated files of `logPath` ("<name>.<stamp>[-n]"), oldest first. */
function rotatedFilesSync(logPath: string): string[] {
  const dir = dirname(logPath);
  const prefix = `${basename(logPath)}.`;
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(prefix) && !n.endsWith('.tmp'));
  } catch {
    return [];
  }
  return names
    .map((n) => ({
      path: join(dir, n),
      mtime: statSync(join(dir, n), { bigint: true, throwIfNoEntry: false })?.mtimeNs ?? 0n,
    }))
    .sort(byAge)
    .map((f) => f.path);
}

/** A container's log files, oldest → newest; the last one is the current file (when it exists). */
export async function listLogFiles(logPath: string): Promise<string[]> {
  const dir = dirname(logPath);
  const prefix = `${basename(logPath)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  const rotated = await Promise.all(
    names
      .filter((n) => n.startsWith(prefix) && !n.endsWith('.tmp'))
      .map(async (n) => ({
        path: join(dir, n),
        mtime: (await stat(join(dir, n), { bigint: true }).catch(() => undefined))?.mtimeNs ?? 0n,
      })),
  );
  rotated.sort(byAge);
  const files = rotated.map((f) => f.path);
  if (await stat(logPath).catch(() => undefined)) files.push(logPath);
  return files;
}

/**
 * Appends CRI entries to a container's log file, rotating by size: the
 * current file is renamed to "<name>.<stamp>" and a new one started, and the
 * oldest rotated files beyond maxFiles are deleted. Writes are synchronous
 * and whole entries, so a follower never sees a line split across files.
 */
export class CriLogWriter {
  readonly path: string;
  #fd: number;
  #size: number;
  #maxSize: number;
  #maxFiles: number;

  constructor(path: string, options: { maxSize?: number; maxFiles?: number } = {}) {
    this.path = path;
    this.#maxSize = options.maxSize ?? CONTAINER_LOG_MAX_SIZE;
    this.#maxFiles = options.maxFiles ?? CONTAINER_LOG_MAX_FILES;
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a', 0o640);
    this.#size = fstatSync(this.#fd).size;
  }

  write(stream: LogStream, partial: boolean, content: Buffer | string, time = criTimestamp()): void {
    const entry = formatCriLine(time, stream, partial, content);
    if (this.#size > 0 && this.#size + entry.length > this.#maxSize) this.#rotate();
    writeSync(this.#fd, entry);
    this.#size += entry.length;
  }

  #rotate(): void {
    closeSync(this.#fd);
    const base = `${this.path}.${rotationStamp(new Date())}`;
    let target = base;
    for (let n = 1; statSync(target, { throwIfNoEntry: false }); n++) target = `${base}-${n}`;
    renameSync(this.path, target);
    const rotated = rotatedFilesSync(this.path);
    for (const old of rotated.slice(0, Math.max(0, rotated.length - (this.#maxFiles - 1)))) {
      try {
        unlinkSync(old);
      } catch {}
    }
    this.#fd = openSync(this.path, 'a', 0o640);
    this.#size = 0;
  }

  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }
}

/** Resolves on the next change in `dir`, after `ms`, or on abort. */
function nextChange(dir: string, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const finish = () => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    try {
      watcher = watch(dir, { persistent: false }, finish);
      watcher.on('error', finish);
    } catch {}
    signal?.addEventListener('abort', finish, { once: true });
  });
}

export type FollowOptions = {
  signal?: AbortSignal;
  /** Start at the end of the current file (only new lines) instead of its beginning. */
  fromEnd?: boolean;
  /** First yield the rotated files' lines, oldest first (the whole log, then follow). */
  includeRotated?: boolean;
  /** Asked whenever the follower is idle at the end: true (container stopped) ends the stream after a last read. */
  done?: () => boolean | Promise<boolean>;
};

/**
 * Follows the current log file across rotation, yielding complete lines
 * (without their newline). When the file is renamed away, the old file is
 * read to its end before the new one is opened, so nothing is skipped.
 */
export async function* followLog(logPath: string, options: FollowOptions = {}): AsyncGenerator<string> {
  const { signal } = options;
  const dir = dirname(logPath);
  const buf = Buffer.alloc(READ_CHUNK);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let ino = -1n;
  let pos = 0;
  let partial = '';
  /** Inodes of files read to their end (or skipped): a rotated file is read at most once. */
  const seen = new Set<bigint>();
  const drain = async function* () {
    if (!handle) return;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      const lines = (partial + buf.toString('utf8', 0, bytesRead)).split('\n');
      partial = lines.pop() ?? '';
      yield* lines;
    }
  };
  /** Rotated files not seen yet and older than the open one, oldest first: read whole, or only marked when `skip`. */
  const rotated = async function* (skip: boolean) {
    for (const file of await listLogFiles(logPath)) {
      if (file === logPath) continue;
      const h = await open(file, 'r').catch(() => undefined);
      if (!h) continue; // deleted by rotation meanwhile
      try {
        const st = await h.stat({ bigint: true });
        // The open file was rotated meanwhile: later ones are newer than it, read after it ends.
        if (st.ino === ino) break;
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
        if (skip) continue;
        const lines = (await h.readFile()).toString('utf8').split('\n');
        if (lines.at(-1) === '') lines.pop();
        yield* lines;
      } finally {
        await h.close();
      }
    }
  };
  const fromStart = options.includeRotated && !options.fromEnd;
  try {
    yield* rotated(!fromStart);
    let first = true;
    while (!signal?.aborted) {
      if (!handle) {
        if (await stat(logPath).catch(() => undefined)) {
          handle = await open(logPath, 'r');
          const st = await handle.stat({ bigint: true });
          ino = st.ino;
          pos = first && options.fromEnd ? Number(st.size) : 0;
          partial = '';
          // Files rotated since the listing above (or since the last file ended) come before this one.
          yield* rotated(first && !fromStart);
          first = false;
        } else if (options.done && (await options.done())) {
          return;
        }
      }
      yield* drain();
      const st = await stat(logPath, { bigint: true }).catch(() => undefined);
      if (handle && st && st.ino !== ino) {
        // Rotated: the writer never writes the old file again; finish it, then catch up and switch.
        yield* drain();
        if (partial) yield partial;
        seen.add(ino);
        await handle.close();
        handle = undefined;
        continue;
      }
      if (options.done && (await options.done())) {
        yield* drain();
        if (partial) yield partial;
        return;
      }
      await nextChange(dir, FOLLOW_POLL_MS, signal);
    }
  } finally {
    await handle?.close();
  }
}
