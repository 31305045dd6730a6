// The CRI container log format and the kubelet's `kubectl logs` filters, as
// pure functions: a line is `<RFC3339Nano> <stdout|stderr> <F|P>[:tags] <text>`;
// P (partial) pieces join the next piece into one line of output.

export type LogStream = 'stdout' | 'stderr';

export type CriLogEntry = {
  /** The timestamp exactly as written (RFC3339Nano), for --timestamps. */
  time: string;
  /** Milliseconds since the epoch (for --since; sub-millisecond digits dropped). */
  timeMs: number;
  stream: LogStream;
  /** False for a P (partial) piece: the line continues in the next entry. */
  full: boolean;
  text: string;
};

/** What `GET pods/x/log` asks for (PodLogOptions), already parsed. */
export type LogOptions = {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** Last N lines of the file; undefined = all. */
  tailLines?: number;
  /** Only entries at or after this time (ms since epoch): sinceSeconds or sinceTime. */
  sinceMs?: number;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
};

/** Parses one CRI log line (without its newline); undefined when it is not one. */
export function parseCriLine(line: string): CriLogEntry | undefined {
  const a = line.indexOf(' ');
  if (a <= 0) return undefined;
  const b = line.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const time = line.slice(0, a);
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const timeMs = Date.parse(time);
  if (Number.isNaN(timeMs)) return undefined;
  // The tag field may be absent in very old files ("ts stream text"); treat as full.
  const c = line.indexOf(' ', b + 1);
  const tagField = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const tag = tagField.split(':')[0];
  if (tag !== 'F' && tag !== 'P') return { time, timeMs, stream, full: true, text: line.slice(b + 1) };
  return { time, timeMs, stream, full: tag === 'F', text: c < 0 ? '' : line.slice(c + 1) };
}

/** Formats one entry as CRI writes it (for tests and writers). */
export function formatCriLine(entry: { time: string; stream: LogStream; full: boolean; text: string }): string {
  return `${entry.time} ${entry.stream} ${entry.full ? 'F' : 'P'} ${entry.text}\n`;
}

/** Index of the first of the last `n` lines of `text` (raw file lines, as the kubelet's tail counts them). */
export function tailStart(text: string, n: number): number {
  if (n <= 0) return text.length;
  let end = text.length;
  if (text.endsWith('\n')) end -= 1;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (text[i] === '\n') {
      count += 1;
      if (count === n) return i + 1;
    }
  }
  return 0;
}

/** Parses PodLogOptions from the query string; throws a message for a bad value. */
export function parseLogOptions(query: URLSearchParams, now: number): LogOptions {
  const flag = (name: string) => query.get(name) === 'true' || query.get(name) === '1';
  const int = (name: string, min: number): number | undefined => {
    const text = query.get(name);
    if (text === null || text === '') return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`${name}: invalid value ${JSON.stringify(text)}: must be an integer >= ${min}`);
    return value;
  };
  const options: LogOptions = { follow: flag('follow'), previous: flag('previous'), timestamps: flag('timestamps') };
  options.tailLines = int('tailLines', 0);
  options.limitBytes = int('limitBytes', 1);
  const sinceSeconds = int('sinceSeconds', 1);
  const sinceTime = query.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) throw new Error('at most one of sinceTime or sinceSeconds may be specified');
  if (sinceSeconds !== undefined) options.sinceMs = now - sinceSeconds * 1000;
  if (sinceTime) {
    const ms = Date.parse(sinceTime);
    if (Number.isNaN(ms)) throw new Error(`sinceTime: invalid value ${JSON.stringify(sinceTime)}: must be RFC3339`);
    options.sinceMs = ms;
  }
  return options;
}

/**
 * Turns CRI log text into what `kubectl logs` prints, incrementally: feed()
 * takes raw file bytes (any chunking) and returns output; it keeps the
 * unfinished line and counts bytes against limitBytes.
 */
export class LogFormatter {
  #options: LogOptions;
  #pending = '';
  #written = 0;
  constructor(options: LogOptions) {
    this.#options = options;
  }

  /** True once limitBytes is reached: nothing more will be written. */
  get done(): boolean {
    return this.#options.limitBytes !== undefined && this.#written >= this.#options.limitBytes;
  }

  feed(chunk: string): string {
    const text = this.#pending + chunk;
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.#pending = text;
      return '';
    }
    this.#pending = text.slice(lastNewline + 1);
    let out = '';
    for (const line of text.slice(0, lastNewline).split('\n')) {
      if (this.done) break;
      const entry = parseCriLine(line);
      if (!entry) continue;
      if (this.#options.sinceMs !== undefined && entry.timeMs < this.#options.sinceMs) continue;
      let piece = `${this.#options.timestamps ? `${entry.time} ` : ''}${entry.text}${entry.full ? '\n' : ''}`;
      const limit = this.#options.limitBytes;
      if (limit !== undefined) {
        const room = limit - this.#written;
        const bytes = Buffer.from(piece);
        if (bytes.length > room) piece = bytes.subarray(0, room).toString();
        this.#written += Math.min(bytes.length, room);
      }
      out += piece;
    }
    return out;
  }
}
