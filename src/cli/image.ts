// `skiff image import|ls|pull|rm`: works on the node's image store directly,
// also while the server runs (the store locks its index between processes).
import { parseArgs } from 'node:util';
import { isImageError, LocalImageStore, parseReference, repositoryOf, type StoredImage } from '../agent/images/index.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { defaultDataDir } from './paths.ts';

const USAGE = `Usage: skiff image <command> [options]

Commands:
  import FILE...   import docker-archive or OCI-archive tarballs (docker save, ctr export)
  ls               list images (IMAGE TAG IMAGE ID SIZE)
  pull REF         pull an image from a registry (mirrors and credentials: <data-dir>/registries.yaml)
  rm REF...        remove images (a tag, or an image ID)

Options:
  --data-dir DIR   the node's data directory (default ${defaultDataDir()})
  --creds U:P      credentials for pull
`;

/** crictl's table: tabwriter with minimum cell width 20 and padding 3. */
const MIN_CELL = 20;
const CELL_PADDING = 3;
/** crictl shows image IDs truncated to this many hex digits. */
const SHORT_ID = 13;

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(MIN_CELL, ...rows.map((r) => r[c].length + CELL_PADDING)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('').trimEnd()).join('\n') + '\n';
}

/** One row per name, as `crictl images` prints them. */
export function imageRows(images: StoredImage[]): string[][] {
  const rows = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
  const sorted = [...images].sort((a, b) => (a.names[0] ?? '~').localeCompare(b.names[0] ?? '~'));
  for (const img of sorted) {
    const id = img.id.replace(/^sha256:/, '').slice(0, SHORT_ID);
    const names = img.names.length > 0 ? img.names : [undefined];
    for (const n of names) {
      const ref = n ? parseReference(n) : undefined;
      rows.push([ref ? repositoryOf(ref) : '<none>', ref?.tag ?? '<none>', id, humanSize(img.size)]);
    }
  }
  return rows;
}

/** The CLI reports results itself; the store's info lines would only repeat them. */
function quietLogger(): Logger {
  const base = createLogger('images');
  const quiet: Logger = { ...base, info: () => {}, child: () => quiet };
  return quiet;
}

export async function runImage(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { 'data-dir': { type: 'string' }, creds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help || !sub || sub === 'help') {
    process.stdout.write(USAGE);
    return sub ? 0 : 1;
  }
  const store = new LocalImageStore({ dataDir: values['data-dir'] ?? defaultDataDir(), log: quietLogger() });
  try {
    switch (sub) {
      case 'import':
        if (positionals.length === 0) throw new Error('import needs at least one tarball');
        for (const file of positionals) {
          const started = Date.now();
          const images = await store.import(file);
          for (const img of images) {
            process.stdout.write(`imported ${img.names.join(', ') || '<none>'} (${img.id.slice(0, 7 + SHORT_ID)}) in ${Date.now() - started} ms\n`);
          }
        }
        return 0;
      case 'ls':
      case 'list':
        process.stdout.write(formatTable(imageRows(await store.list())));
        return 0;
      case 'pull': {
        if (positionals.length !== 1) throw new Error('pull needs one image reference');
        const [username, ...pw] = (values.creds ?? '').split(':');
        const auth = values.creds ? [{ registry: parseReference(positionals[0]).domain, username, password: pw.join(':') }] : undefined;
        const img = await store.pull(positionals[0], { auth });
        process.stdout.write(`Image is up to date for ${img.id}\n`);
        return 0;
      }
      case 'rm':
      case 'remove':
        for (const ref of positionals) {
          await store.remove(ref);
          process.stdout.write(`Deleted: ${ref}\n`);
        }
        return 0;
      default:
        process.stderr.write(`skiff image: unknown command "${sub}"\n\n${USAGE}`);
        return 1;
    }
  } catch (err) {
    const why = isImageError(err) ? `${err.reason}: ${err.message}` : (err as Error).message;
    process.stderr.write(`skiff image ${sub}: ${why}\n`);
    return 1;
  }
}
