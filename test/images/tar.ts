// A small, deterministic tar writer (ustar + PAX headers for long names) for
// building test images. Written by hand rather than with GNU tar so tests can
// also make hostile archives (`../` paths, absolute paths, symlink escapes)
// that a real tar would refuse to create.

export type TarEntry =
  | { type: 'file'; path: string; data: Buffer | string; mode?: number; uid?: number; gid?: number }
  | { type: 'dir'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string }
  | { type: 'char' | 'block'; path: string; major: number; minor: number; mode?: number }
  | { type: 'fifo'; path: string; mode?: number };

const BLOCK = 512;
const TYPE_FLAG: Record<TarEntry['type'], string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};
/** ustar's name field; longer names go into a PAX extended header. */
const NAME_FIELD = 100;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(fields: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  type: string;
  linkname?: string;
  major?: number;
  minor?: number;
}): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(fields.name.slice(0, NAME_FIELD), 0, 'utf8');
  h.write(octal(fields.mode, 8), 100);
  h.write(octal(fields.uid, 8), 108);
  h.write(octal(fields.gid, 8), 116);
  h.write(octal(fields.size, 12), 124);
  h.write(octal(0, 12), 136); // mtime 0: deterministic archives
  h.write(' '.repeat(8), 148); // checksum placeholder
  h.write(fields.type, 156);
  if (fields.linkname) h.write(fields.linkname.slice(0, NAME_FIELD), 157, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(octal(fields.major ?? 0, 8), 329);
  h.write(octal(fields.minor ?? 0, 8), 337);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [data] : [data, Buffer.alloc(BLOCK - rest)];
}

function paxRecord(key: string, value: string): string {
  // The length prefix counts itself, so iterate until it is stable.
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Serialises entries in the given order (sort them first for reproducible layers). */
export function writeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? Buffer.from(entry.data) : Buffer.alloc(0);
    const linkname = entry.type === 'symlink' || entry.type === 'hardlink' ? entry.target : undefined;
    const name = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
    const pax: string[] = [];
    if (Buffer.byteLength(name) > NAME_FIELD) pax.push(paxRecord('path', name));
    if (linkname && Buffer.byteLength(linkname) > NAME_FIELD) pax.push(paxRecord('linkpath', linkname));
    if (pax.length > 0) {
      const body = Buffer.from(pax.join(''));
      parts.push(header({ name: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: body.length, type: 'x' }));
      parts.push(...padded(body));
    }
    const defaultMode = entry.type === 'dir' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644;
    parts.push(
      header({
        name,
        mode: 'mode' in entry && entry.mode !== undefined ? entry.mode : defaultMode,
        uid: 'uid' in entry && entry.uid !== undefined ? entry.uid : 0,
        gid: 'gid' in entry && entry.gid !== undefined ? entry.gid : 0,
        size: data.length,
        type: TYPE_FLAG[entry.type],
        linkname,
        major: 'major' in entry ? entry.major : undefined,
        minor: 'minor' in entry ? entry.minor : undefined,
      }),
    );
    if (data.length > 0) parts.push(...padded(data));
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end-of-archive marker
  return Buffer.concat(parts);
}
