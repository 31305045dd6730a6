// What Node's fs cannot do: device nodes (overlay whiteouts are 0/0 character
// devices) and extended attributes (opaque directories). Both are batched into
// one child process per layer, so a layer with many whiteouts stays cheap.
import { spawn } from 'node:child_process';
import { ImageError } from './errors.ts';

/** Entries per `sh` invocation, well under the kernel's argument size limit. */
const MKNOD_BATCH = 2000;

export type SpecialFile = { path: string; kind: 'c' | 'b' | 'p'; major: number; minor: number };

function run(cmd: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', (err) => reject(new ImageError('InvalidArchive', `${cmd}: ${err.message}`, { cause: err })));
    child.on('close', (status) =>
      status === 0 ? resolve() : reject(new ImageError('InvalidArchive', `${cmd} failed (${status}): ${stderr.trim()}`)),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

const MKNOD_SCRIPT =
  'while [ $# -gt 0 ]; do if [ "$2" = p ]; then mknod "$1" p || exit 1; else mknod "$1" "$2" "$3" "$4" || exit 1; fi; shift 4; done';

/** Creates device nodes and FIFOs (paths must not exist yet). */
export async function makeSpecialFiles(files: SpecialFile[]): Promise<void> {
  for (let i = 0; i < files.length; i += MKNOD_BATCH) {
    const args = files.slice(i, i + MKNOD_BATCH).flatMap((f) => [f.path, f.kind, String(f.major), String(f.minor)]);
    await run('sh', ['-c', MKNOD_SCRIPT, 'sh', ...args]);
  }
}

/** getfattr's escaping of file names in `# file:` lines: octal for anything unusual. */
function escapeName(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path)) {
    const printable = byte > 0x20 && byte < 0x7f && byte !== 0x5c;
    out += printable ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** Sets extended attributes (without following symlinks) with one `setfattr --restore`. */
export async function setXattrs(items: { path: string; name: string; value: Buffer }[]): Promise<void> {
  if (items.length === 0) return;
  const lines: string[] = [];
  for (const item of items) {
    lines.push(`# file: ${escapeName(item.path)}`, `${item.name}=0x${item.value.toString('hex')}`, '');
  }
  try {
    await run('setfattr', ['-h', '--restore=-'], `${lines.join('\n')}\n`);
  } catch (err) {
    if (err instanceof ImageError && /ENOENT|spawn/.test(err.message)) {
      throw new ImageError('InvalidArchive', 'setfattr is missing (apt-get install attr): needed for opaque directories and file xattrs in layers');
    }
    throw err;
  }
}
