// Turns a container's raw output files into CRI log entries.
//
// The container writes its stdout/stderr straight into two plain files in
// its shim dir (opened O_APPEND and handed to runc, which passes them
// through). Nothing the agent does can block or kill the writer: when the
// agent is down, output simply accumulates in the file, and the next agent
// resumes from the offsets persisted beside it. Consumed bytes are given
// back to the filesystem by punching a hole at the front of the file
// (util-linux `fallocate -p`), so the raw files stay small on disk while
// their offsets only grow.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  type FSWatcher,
  openSync,
  readFileSync,
  readSync,
  watch,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.ts';
import { CriLogWriter, type LogStream, MAX_LOG_LINE } from './cri-log.ts';

/** Read size per call: a large read keeps syscalls few when a container logs heavily. */
const READ_CHUNK = 256 * 1024;
/**
 * One read buffer for every pump: pumping is synchronous and nothing keeps a
 * view of the buffer past #consume (partial lines are copied), so sharing it
 * spares a 256 KiB allocation per stream on every inotify wake-up.
 */
let sharedReadBuffer: Buffer | undefined;
/** Give consumed raw bytes back once this many accumulate (one `fallocate` run per MiB logged). */
const PUNCH_THRESHOLD = 1024 * 1024;
/** Filesystem block size hole punching is aligned to (partial blocks are only zeroed). */
const PUNCH_ALIGN = 4096;
/** Bytes converted per stream before yielding to the event loop (a big backlog after a restart must not stall the agent). */
const PUMP_BUDGET = 4 * 1024 * 1024;
/** Safety net when an inotify event is missed (or the data dir's filesystem has none). */
const PUMP_POLL_MS = 1000;

export const RAW_FILES: Record<LogStream, string> = { stdout: 'stdout', stderr: 'stderr' };
const OFFSETS_FILE = 'log-offsets.json';
/** Two streams' offsets with 15-digit numbers fit in 128 bytes of JSON. */
const OFFSETS_RECORD_BYTES = 128;

type StreamState = { fd: number; offset: number; punched: number; partial: Buffer[]; partialLen: number };

export class LogPump {
  readonly #dir: string;
  readonly #writer: CriLogWriter;
  readonly #log: Logger;
  readonly #streams = new Map<LogStream, StreamState>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #scheduled = false;
  #closed = false;
  #punchWarned = false;
  #offsetsFd: number | undefined;

  readonly #exitFile: string | undefined;

  /**
   * `dir` holds the raw files and the offsets; `streams` are the raw files to
   * read; `exitFile` (in dir) appearing means the container is gone: finish.
   */
  constructor(options: { dir: string; logPath: string; streams: LogStream[]; exitFile?: string; log: Logger }) {
    this.#dir = options.dir;
    this.#log = options.log;
    this.#exitFile = options.exitFile;
    this.#writer = new CriLogWriter(options.logPath);
    const saved = this.#loadOffsets();
    for (const s of options.streams) {
      const fd = openSync(join(this.#dir, RAW_FILES[s]), 'r');
      this.#streams.set(s, {
        fd,
        offset: saved[s]?.offset ?? 0,
        punched: saved[s]?.punched ?? 0,
        partial: [],
        partialLen: 0,
      });
    }
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, (_e, name) => {
        if (name === RAW_FILES.stdout || name === RAW_FILES.stderr) this.#schedule();
        else if (name && name === this.#exitFile) setImmediate(() => this.#finishIfExited());
      });
      this.#watcher.on('error', () => {});
    } catch {}
    this.#timer = setInterval(() => {
      this.pump();
      this.#finishIfExited();
    }, PUMP_POLL_MS);
    this.#timer.unref();
    this.pump();
  }

  #finishIfExited(): void {
    if (this.#exitFile && existsSync(join(this.#dir, this.#exitFile))) this.finish();
  }

  #loadOffsets(): Partial<Record<LogStream, { offset: number; punched: number }>> {
    try {
      return JSON.parse(readFileSync(join(this.#dir, OFFSETS_FILE), 'utf8'));
    } catch {
      return {};
    }
  }

  /**
   * One pwrite of a fixed-size record over the same bytes (JSON padded with
   * spaces): a write this small never tears, and it costs one syscall and no
   * inotify event in the watched directory, against open + write + close +
   * rename for a new file on every pump.
   */
  #saveOffsets(): void {
    const data: Record<string, { offset: number; punched: number }> = {};
    for (const [s, st] of this.#streams) data[s] = { offset: st.offset, punched: st.punched };
    const json = JSON.stringify(data);
    if (json.length > OFFSETS_RECORD_BYTES) throw new Error(`log offsets record too long: ${json}`);
    if (this.#offsetsFd === undefined) {
      const path = join(this.#dir, OFFSETS_FILE);
      // Overwrite in place (never truncate: a crash right after would lose the offsets and replay the whole log).
      this.#offsetsFd = openSync(path, existsSync(path) ? 'r+' : 'w', 0o600);
    }
    writeSync(this.#offsetsFd, json.padEnd(OFFSETS_RECORD_BYTES), 0);
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.pump();
    });
  }

  /**
   * Converts what has been written; synchronous, so callers can rely on it
   * being in the log file. With `all` unset it stops after PUMP_BUDGET bytes
   * per stream and schedules itself to go on.
   */
  pump(options: { all?: boolean } = {}): void {
    if (this.#closed) return;
    let moved = false;
    let more = false;
    for (const [stream, st] of this.#streams) {
      sharedReadBuffer ??= Buffer.allocUnsafe(READ_CHUNK);
      const buf = sharedReadBuffer;
      let budget = options.all ? Number.POSITIVE_INFINITY : PUMP_BUDGET;
      for (;;) {
        if (budget <= 0) {
          more = true;
          break;
        }
        const n = readSync(st.fd, buf, 0, buf.length, st.offset);
        if (n === 0) break;
        st.offset += n;
        budget -= n;
        moved = true;
        this.#consume(stream, st, buf.subarray(0, n));
      }
      if (st.offset - st.punched >= PUNCH_THRESHOLD) this.#punch(stream, st);
    }
    if (moved) this.#saveOffsets();
    if (more) this.#schedule();
  }

  #consume(stream: LogStream, st: StreamState, chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      this.#emit(stream, st, chunk.subarray(start, nl), false);
      start = nl + 1;
    }
    if (start < chunk.length) {
      st.partial.push(Buffer.from(chunk.subarray(start)));
      st.partialLen += chunk.length - start;
      while (st.partialLen >= MAX_LOG_LINE) {
        const all = Buffer.concat(st.partial);
        this.#writer.write(stream, true, all.subarray(0, MAX_LOG_LINE));
        const rest = all.subarray(MAX_LOG_LINE);
        st.partial = rest.length ? [Buffer.from(rest)] : [];
        st.partialLen = rest.length;
      }
    }
  }

  /** Writes a complete line (prefixed by any partial bytes held), splitting at MAX_LOG_LINE. */
  #emit(stream: LogStream, st: StreamState, tail: Buffer, partial: boolean): void {
    let line = st.partialLen ? Buffer.concat([...st.partial, tail]) : tail;
    st.partial = [];
    st.partialLen = 0;
    while (line.length > MAX_LOG_LINE) {
      this.#writer.write(stream, true, line.subarray(0, MAX_LOG_LINE));
      line = line.subarray(MAX_LOG_LINE);
    }
    this.#writer.write(stream, partial, line);
  }

  #punch(stream: LogStream, st: StreamState): void {
    const upTo = Math.floor(st.offset / PUNCH_ALIGN) * PUNCH_ALIGN;
    if (upTo <= st.punched) return;
    st.punched = upTo;
    const child = spawn('fallocate', ['-p', '-o', '0', '-l', String(upTo), join(this.#dir, RAW_FILES[stream])], {
      stdio: 'ignore',
    });
    const warn = (why: string) => {
      if (this.#punchWarned) return;
      this.#punchWarned = true;
      this.#log.warn('cannot free consumed raw log space (fallocate -p); raw log files will grow', {
        dir: this.#dir,
        why,
      });
    };
    child.on('error', (e) => warn(e.message));
    child.on('close', (code) => code !== 0 && warn(`exit code ${code}`));
  }

  #stop(): void {
    this.#closed = true;
    this.#watcher?.close();
    clearInterval(this.#timer);
  }

  /** The container has exited: convert the rest, including an unterminated last line, and close. */
  finish(): void {
    if (this.#closed) return;
    this.pump({ all: true });
    for (const [stream, st] of this.#streams) if (st.partialLen) this.#emit(stream, st, Buffer.alloc(0), false);
    this.#saveOffsets();
    this.#release();
  }

  /**
   * The agent stops while the container runs: held partial bytes go out as a
   * "P" entry (the line goes on in the next agent's first entry) and offsets
   * are saved, so nothing is lost or repeated.
   */
  close(): void {
    if (this.#closed) return;
    this.pump({ all: true });
    for (const [stream, st] of this.#streams) if (st.partialLen) this.#emit(stream, st, Buffer.alloc(0), true);
    this.#saveOffsets();
    this.#release();
  }

  #release(): void {
    this.#stop();
    for (const st of this.#streams.values()) closeSync(st.fd);
    if (this.#offsetsFd !== undefined) closeSync(this.#offsetsFd);
    this.#offsetsFd = undefined;
    this.#writer.close();
  }
}
