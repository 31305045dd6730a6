// Just enough HTTP/1.1 for the proxy's fast path: message heads parsed from
// raw bytes, and body framing (Content-Length or chunked) tracked so bytes can
// be passed through verbatim. Strict on purpose: a request head this parser
// does not fully accept is handed to node:http (llhttp), which either serves
// it on the slower path or rejects it properly, so ambiguity never becomes
// request smuggling.

/** Largest head accepted (Node's default maxHeaderSize). */
export const MAX_HEAD_BYTES = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible ASCII, Latin-1 octets, spaces and tabs; no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Request targets: origin-form or absolute-form, no spaces or controls. */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
const CONTENT_LENGTH = /^\d{1,15}$/;
const CR = 13;
const LF = 10;

export type RequestHead = {
  method: string;
  target: string;
  /** Header fields as [name, value, name, value, ...], order and case kept. */
  raw: string[];
  host: string | undefined;
  /** Body length; -1 for chunked, 0 for none. */
  contentLength: number;
  chunked: boolean;
  /** The client asked to close after this exchange. */
  close: boolean;
};

export type ResponseHead = {
  status: number;
  reason: string;
  raw: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** The upstream connection may be reused after this response. */
  keepAlive: boolean;
  /** Seconds from a `Keep-Alive: timeout=N` hint, or undefined. */
  keepAliveTimeout: number | undefined;
};

function tokens(value: string): string[] {
  return value.toLowerCase().split(',').map((t) => t.trim());
}

/** Splits header lines into fields; undefined on anything not plainly valid (obs-fold, bad names or values). */
function parseFields(lines: string[]): string[] | undefined {
  const raw: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) return undefined;
    raw.push(name, value);
  }
  return raw;
}

/**
 * The request head in `head` (latin1 text up to, not including, the blank
 * line), or undefined when it is not a plain HTTP/1.1 request the fast path
 * serves: other versions, upgrades, Expect, CONNECT, odd framing.
 */
export function parseRequestHead(head: string): RequestHead | undefined {
  const lines = head.split('\r\n');
  const parts = lines[0].split(' ');
  if (parts.length !== 3 || parts[2] !== 'HTTP/1.1' || !TOKEN.test(parts[0]) || !TARGET.test(parts[1])) return undefined;
  const [method, target] = parts;
  if (method === 'CONNECT') return undefined;
  const raw = parseFields(lines);
  if (!raw) return undefined;
  let host: string | undefined;
  let contentLength = 0;
  let lengths = 0;
  let chunked = false;
  let close = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    switch (name) {
      case 'host':
        if (host !== undefined) return undefined;
        host = value;
        break;
      case 'content-length':
        if (!CONTENT_LENGTH.test(value) || lengths++ > 0) return undefined;
        contentLength = Number(value);
        break;
      case 'transfer-encoding':
        if (chunked || value.toLowerCase() !== 'chunked') return undefined;
        chunked = true;
        break;
      case 'connection': {
        const t = tokens(value);
        if (t.includes('upgrade')) return undefined;
        if (t.includes('close')) close = true;
        break;
      }
      case 'upgrade':
      case 'expect':
        return undefined;
    }
  }
  if (host === undefined || (chunked && lengths > 0)) return undefined;
  return { method, target, raw, host, contentLength: chunked ? -1 : contentLength, chunked, close };
}

/**
 * Where an upstream response's head ends: `head` is the length of its text
 * (without the last line's terminator), `next` where the body starts. Lines
 * may end with a bare LF, which nginx accepts from upstreams (RFC 9112 §2.2
 * allows a recipient to); requests stay strict. Undefined while incomplete.
 */
export function findResponseHeadEnd(buf: Buffer): { head: number; next: number } | undefined {
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) {
    const head = i > 0 && buf[i - 1] === CR ? i - 1 : i;
    if (buf[i + 1] === LF) return { head, next: i + 2 };
    if (buf[i + 1] === CR && buf[i + 2] === LF) return { head, next: i + 3 };
  }
  return undefined;
}

/** The response head (latin1 text before the blank line; CRLF or bare LF lines), or undefined when it is malformed. */
export function parseResponseHead(head: string): ResponseHead | undefined {
  const lines = head.split('\n');
  for (let i = 0; i < lines.length; i++) if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
  const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) return undefined;
  const raw = parseFields(lines);
  if (!raw) return undefined;
  let keepAlive = m[1] === '1';
  let contentLength = -1;
  let chunked = false;
  let keepAliveTimeout: number | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (name === 'content-length') {
      if (!CONTENT_LENGTH.test(value) || (contentLength !== -1 && contentLength !== Number(value))) return undefined;
      contentLength = Number(value);
    } else if (name === 'transfer-encoding') {
      const t = tokens(value);
      if (t[t.length - 1] !== 'chunked') return undefined; // other codings end at close: not worth a fast path
      chunked = true;
    } else if (name === 'connection') {
      const t = tokens(value);
      if (t.includes('close')) keepAlive = false;
      else if (t.includes('keep-alive')) keepAlive = true;
    } else if (name === 'keep-alive') {
      const hint = /timeout=(\d+)/i.exec(value);
      if (hint) keepAliveTimeout = Number(hint[1]);
    }
  }
  if (chunked) contentLength = -1;
  return { status: Number(m[2]), reason: m[3] ?? '', raw, contentLength, chunked, keepAlive, keepAliveTimeout };
}


/**
 * Finds where a chunked body ends, fed the bytes as they pass. States follow
 * RFC 9112 §7.1: size line (hex, optional extensions), data, CRLF, ... the
 * zero-size chunk, then trailer lines up to an empty line.
 */
export class ChunkedScanner {
  #state: 'size' | 'ext' | 'sizeLf' | 'data' | 'dataCr' | 'dataLf' | 'lineStart' | 'line' | 'lineLf' | 'endLf' | 'done' | 'error' = 'size';
  #size = 0;
  #digits = 0;
  #remaining = 0;

  get done(): boolean {
    return this.#state === 'done';
  }

  get failed(): boolean {
    return this.#state === 'error';
  }

  /** Consumes bytes from `start`; returns the index just past the body's end, or -1 when more is needed (or on error). */
  feed(buf: Uint8Array, start = 0): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      const c = buf[i];
      switch (this.#state) {
        case 'size': {
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d >= 0) {
            if (++this.#digits > 12) return this.#fail();
            this.#size = this.#size * 16 + d;
          } else if (this.#digits === 0) return this.#fail();
          else if (c === CR) this.#state = 'sizeLf';
          else if (c === 59 || c === 32 || c === 9) this.#state = 'ext'; // ';' or whitespace before it
          else return this.#fail();
          i++;
          break;
        }
        case 'ext':
          if (c === CR) this.#state = 'sizeLf';
          else if (c === LF) return this.#fail();
          i++;
          break;
        case 'sizeLf':
          if (c !== LF) return this.#fail();
          i++;
          if (this.#size === 0) this.#state = 'lineStart';
          else {
            this.#remaining = this.#size;
            this.#state = 'data';
          }
          break;
        case 'data': {
          const take = Math.min(this.#remaining, n - i);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = 'dataCr';
          break;
        }
        case 'dataCr':
          if (c !== CR) return this.#fail();
          this.#state = 'dataLf';
          i++;
          break;
        case 'dataLf':
          if (c !== LF) return this.#fail();
          this.#size = 0;
          this.#digits = 0;
          this.#state = 'size';
          i++;
          break;
        case 'lineStart':
          this.#state = c === CR ? 'endLf' : 'line';
          i++;
          break;
        case 'line':
          if (c === CR) this.#state = 'lineLf';
          i++;
          break;
        case 'lineLf':
          if (c !== LF) return this.#fail();
          this.#state = 'lineStart';
          i++;
          break;
        case 'endLf':
          if (c !== LF) return this.#fail();
          this.#state = 'done';
          return i + 1;
        default:
          return -1;
      }
    }
    return -1;
  }

  #fail(): number {
    this.#state = 'error';
    return -1;
  }
}

/** Tracks where a body ends: fixed length, chunked, or (for responses) at close. */
export class BodyTracker {
  #remaining: number;
  #chunked: ChunkedScanner | undefined;
  readonly untilClose: boolean;

  /** length: bytes, -1 chunked, -2 until the connection closes. */
  constructor(length: number) {
    this.#remaining = Math.max(length, 0);
    this.#chunked = length === -1 ? new ChunkedScanner() : undefined;
    this.untilClose = length === -2;
  }

  get done(): boolean {
    return this.#chunked ? this.#chunked.done : !this.untilClose && this.#remaining === 0;
  }

  get failed(): boolean {
    return this.#chunked?.failed ?? false;
  }

  /** How many bytes of buf[start..] belong to the body (all when it is not finished). */
  take(buf: Uint8Array, start: number): number {
    if (this.untilClose) return buf.length - start;
    if (this.#chunked) {
      const end = this.#chunked.feed(buf, start);
      return end === -1 ? buf.length - start : end - start;
    }
    const take = Math.min(this.#remaining, buf.length - start);
    this.#remaining -= take;
    return take;
  }
}
