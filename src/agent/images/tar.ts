// A streaming tar reader (ustar, GNU long names, PAX headers incl. xattrs).
// `readTar` yields one entry at a time; an entry's body must be read (or is
// skipped) before the next entry is asked for.
import { ImageError } from './errors.ts';

const BLOCK = 512;
/** Long-name and PAX records are metadata; anything larger is a hostile archive. */
const MAX_META_BYTES = 1 << 20;

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export type TarHeader = {
  path: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From PAX `SCHILY.xattr.<name>` records. */
  xattrs: Record<string, Buffer>;
};

export type TarEntry = TarHeader & { body: AsyncIterable<Buffer> };

/** Pulls exact byte counts out of a chunk stream. */
class ByteReader {
  #iter: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;
  constructor(source: AsyncIterable<Buffer>) {
    this.#iter = source[Symbol.asyncIterator]();
  }
  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const next = await this.#iter.next();
    if (next.done) {
      this.#done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    return true;
  }
  /** Exactly n bytes, or fewer only at end of stream. */
  async read(n: number): Promise<Buffer> {
    while (this.#buf.length < n && (await this.#fill()));
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }
  /** Up to n bytes as chunks, without buffering them all. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#fill())) throw new ImageError('InvalidArchive', 'tar: unexpected end of archive');
      const out = this.#buf.subarray(0, Math.min(left, this.#buf.length));
      this.#buf = this.#buf.subarray(out.length);
      left -= out.length;
      yield out;
    }
  }
  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n));
  }
  /** Reads and discards everything left (so a digest over the whole stream is complete). */
  async drain(): Promise<void> {
    this.#buf = Buffer.alloc(0);
    while (await this.#fill()) this.#buf = Buffer.alloc(0);
  }
  async close(): Promise<void> {
    await this.#iter.return?.();
  }
}

function field(h: Buffer, offset: number, length: number): string {
  const raw = h.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

function numeric(h: Buffer, offset: number, length: number): number {
  const raw = h.subarray(offset, offset + length);
  if (raw[0] & 0x80) {
    // GNU base-256 for values that do not fit in octal.
    let value = 0;
    for (let i = 1; i < raw.length; i++) value = value * 256 + raw[i];
    return value;
  }
  const text = field(h, offset, length).trim();
  return text ? Number.parseInt(text, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === numeric(h, 148, 8);
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

function parsePax(data: Buffer): Map<string, string | Buffer> {
  const out = new Map<string, string | Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number.parseInt(data.subarray(pos, space).toString(), 10);
    if (!(len > 0) || pos + len > data.length) throw new ImageError('InvalidArchive', 'tar: bad PAX record');
    const record = data.subarray(space + 1, pos + len - 1); // drop trailing newline
    const eq = record.indexOf(0x3d);
    const key = record.subarray(0, eq).toString();
    // xattr values are binary; everything else is UTF-8 text.
    out.set(key, key.startsWith('SCHILY.xattr.') ? Buffer.from(record.subarray(eq + 1)) : record.subarray(eq + 1).toString());
    pos += len;
  }
  return out;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** Iterates the entries of a tar stream (uncompressed; decompress before). */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  let pax = new Map<string, string | Buffer>();
  let globalPax = new Map<string, string | Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const h = await reader.read(BLOCK);
      if (h.length === 0) return; // tolerate archives without the end marker
      if (h.length < BLOCK) throw new ImageError('InvalidArchive', 'tar: truncated header');
      if (h.every((b) => b === 0)) {
        await reader.drain();
        return;
      }
      if (!checksumOk(h)) throw new ImageError('InvalidArchive', 'tar: bad header checksum (not a tar archive?)');
      const flag = String.fromCharCode(h[156]);
      const size = numeric(h, 124, 12);
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > MAX_META_BYTES) throw new ImageError('InvalidArchive', 'tar: metadata record too large');
        const data = await reader.read(size);
        await reader.skip(padding(size));
        if (flag === 'x') pax = new Map([...pax, ...parsePax(data)]);
        else if (flag === 'g') globalPax = new Map([...globalPax, ...parsePax(data)]);
        else if (flag === 'L') longName = field(data, 0, data.length);
        else longLink = field(data, 0, data.length);
        continue;
      }
      const meta = new Map([...globalPax, ...pax]);
      const prefix = field(h, 345, 155);
      const ustarName = field(h, 0, 100);
      const magic = field(h, 257, 6);
      const name = (meta.get('path') as string) ?? longName ?? (magic === 'ustar' && prefix ? `${prefix}/${ustarName}` : ustarName);
      const xattrs: Record<string, Buffer> = {};
      for (const [k, v] of meta) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = v as Buffer;
      const num = (key: string, fallback: number) => (meta.has(key) ? Number(meta.get(key)) : fallback);
      const bodySize = num('size', size);
      let type = TYPES[flag] ?? 'other';
      if (type === 'file' && name.endsWith('/')) type = 'dir'; // old archives mark dirs only by the slash
      const header: TarHeader = {
        path: name,
        type,
        mode: numeric(h, 100, 8) & 0o7777,
        uid: num('uid', numeric(h, 108, 8)),
        gid: num('gid', numeric(h, 116, 8)),
        size: bodySize,
        mtime: Math.floor(num('mtime', numeric(h, 136, 12))),
        linkname: (meta.get('linkpath') as string) ?? longLink ?? field(h, 157, 100),
        devmajor: numeric(h, 329, 8),
        devminor: numeric(h, 337, 8),
        xattrs,
      };
      pax = new Map();
      longName = undefined;
      longLink = undefined;
      // Hard links and the like carry no data even if a size is set.
      const dataSize = type === 'file' || type === 'other' ? bodySize : 0;
      let remaining = dataSize;
      let started = false;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => {
          if (started) throw new Error('tar: an entry body can be read once');
          started = true;
          return (async function* () {
            for await (const chunk of reader.chunks(remaining)) {
              remaining -= chunk.length;
              yield chunk;
            }
          })();
        },
      };
      yield { ...header, body };
      await reader.skip(remaining); // whatever the consumer left unread
      await reader.skip(padding(dataSize));
    }
  } finally {
    await reader.close();
  }
}
