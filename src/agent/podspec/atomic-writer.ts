// Kubernetes' AtomicWriter layout for configMap, secret, downwardAPI and
// projected volumes, so a container sees a whole update or none of it:
//   <dir>/..<timestamp>.<random>/<files>   the payload, written once
//   <dir>/..data -> ..<timestamp>.<random>  swapped by rename(2), atomically
//   <dir>/<key>  -> ..data/<key>            user-visible names (top level only)
import { randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

export type PayloadFile = { data: Buffer; mode: number };
/** Relative path → content. */
export type Payload = Map<string, PayloadFile>;

const DATA_DIR = '..data';
const DATA_DIR_TMP = '..data_tmp';
/** Directories inside the payload: readable and searchable by any user, as Kubernetes makes them. */
const DIR_MODE = 0o755;

/** Refuses paths that could escape the volume or collide with the writer's own names. */
export function validatePayloadPath(path: string): void {
  if (path === '') throw new Error('invalid path: must not be empty');
  if (posix.isAbsolute(path)) throw new Error(`invalid path: must be relative path: ${path}`);
  if (path.length > 4096) throw new Error(`invalid path: must be less than or equal to 4096 characters`);
  const parts = path.split('/');
  if (parts.some((p) => p === '..')) throw new Error(`invalid path: must not contain '..': ${path}`);
  if (path.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${path}`);
  if (parts.some((p) => p.length > 255)) throw new Error(`invalid path: element too long: ${path}`);
}

/** Timestamped payload dir name, "..2006_01_02_15_04_05.<random>" as Go formats it. */
function timestampedName(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}`;
  return `..${stamp}.${randomBytes(5).readUInt32BE(0)}`;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Whether the current payload dir already holds exactly this payload (then nothing is written). */
async function samePayload(dir: string, payload: Payload): Promise<boolean> {
  const existing: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else existing.push(path);
    }
  };
  try {
    await walk('');
  } catch {
    return false;
  }
  if (existing.length !== payload.size) return false;
  for (const path of existing) {
    const want = payload.get(path);
    if (!want) return false;
    const [data, stat] = await Promise.all([readFile(join(dir, path)), lstat(join(dir, path))]);
    if (!data.equals(want.data) || (stat.mode & 0o7777) !== want.mode) return false;
  }
  return true;
}

/**
 * Writes the payload into `targetDir` with the atomic layout; returns false
 * when the payload was already current. `gid` (fsGroup) makes files group-owned.
 */
export async function writeAtomic(targetDir: string, payload: Payload, options: { now?: Date; gid?: number } = {}): Promise<boolean> {
  for (const path of payload.keys()) validatePayloadPath(path);
  await mkdir(targetDir, { recursive: true });
  const dataLink = join(targetDir, DATA_DIR);
  const oldName = await readlink(dataLink).catch(() => undefined);
  if (oldName && (await samePayload(join(targetDir, oldName), payload))) return false;

  const newName = timestampedName(options.now ?? new Date());
  const newDir = join(targetDir, newName);
  await mkdir(newDir, { mode: DIR_MODE });
  await chmod(newDir, DIR_MODE);
  for (const [path, file] of payload) {
    const full = join(newDir, path);
    await mkdir(dirname(full), { recursive: true, mode: DIR_MODE });
    await writeFile(full, file.data, { mode: file.mode });
    await chmod(full, file.mode);
    if (options.gid !== undefined) await chown(full, process.getuid?.() ?? 0, options.gid);
  }

  // User-visible names: one symlink per top-level element, through ..data.
  const newTop = new Set([...payload.keys()].map((p) => p.split('/')[0]));
  for (const name of newTop) {
    const link = join(targetDir, name);
    if (!(await exists(link))) await symlink(join(DATA_DIR, name), link);
  }
  const tmpLink = join(targetDir, DATA_DIR_TMP);
  await rm(tmpLink, { force: true });
  await symlink(newName, tmpLink);
  await rename(tmpLink, dataLink);

  // Names that left the payload, then the old payload dir.
  for (const entry of await readdir(targetDir)) {
    if (entry.startsWith('..') || newTop.has(entry)) continue;
    await rm(join(targetDir, entry), { recursive: true, force: true });
  }
  if (oldName && oldName !== newName) await rm(join(targetDir, oldName), { recursive: true, force: true });
  return true;
}
