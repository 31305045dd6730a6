// Persistent network namespaces, made the way `ip netns add` makes them: a
// process unshares its network namespace and /proc/<pid>/ns/net is
// bind-mounted onto a file, so the namespace lives on with no process in it.
// The directory holding the files is a shared bind mount of itself (as
// /run/netns is), so an unmount also reaches mount namespaces copied while
// the file was mounted (containers), and the namespace can really go away.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, runIgnoring } from './exec.ts';

/** Paths in /proc/self/mountinfo escape space, tab, newline and backslash as octal. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Mount points (with their filesystem type) from /proc/self/mountinfo text. Pure. */
export function parseMountinfo(text: string): { mountPoint: string; fsType: string; shared: boolean }[] {
  const mounts: { mountPoint: string; fsType: string; shared: boolean }[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fields = left.split(' ');
    mounts.push({
      mountPoint: unescapeMountPath(fields[4]),
      fsType: right.split(' ')[0],
      shared: fields.slice(6).some((f) => f.startsWith('shared:')),
    });
  }
  return mounts;
}

async function mounts() {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** Makes `dir` exist as a shared bind mount of itself (idempotent). */
export async function ensureNetnsDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const entry = (await mounts()).findLast((m) => m.mountPoint === dir);
  if (entry?.shared) return;
  if (!entry) await run(['mount', '--bind', dir, dir]);
  await run(['mount', '--make-shared', dir]);
}

/** Whether `path` is a mounted network namespace file. */
export async function isNetnsMounted(path: string): Promise<boolean> {
  return (await mounts()).some((m) => m.mountPoint === path && m.fsType === 'nsfs');
}

/**
 * Creates a namespace mounted at `path` and, when `batch` is given, runs
 * `ip -batch` inside it in the same step (one process for create + configure).
 */
export async function createNetns(path: string, batch?: string): Promise<void> {
  await writeFile(path, '', { mode: 0o444, flag: 'a' });
  const argv = batch ? ['unshare', `--net=${path}`, 'ip', '-batch', '-'] : ['unshare', `--net=${path}`, 'true'];
  await run(argv, { input: batch });
}

/** Runs `ip -batch` inside the namespace at `path`. */
export async function ipBatchIn(path: string, batch: string): Promise<string> {
  return run(['nsenter', `--net=${path}`, 'ip', '-batch', '-'], { input: batch });
}

/** Runs one `ip` command inside the namespace at `path`. */
export async function ipIn(path: string, args: string[]): Promise<string> {
  return run(['nsenter', `--net=${path}`, 'ip', ...args]);
}

/** Unmounts and removes the namespace file; idempotent. */
export async function removeNetns(path: string): Promise<void> {
  if (await isNetnsMounted(path)) await runIgnoring(['umount', path], /not mounted|no mount point/);
  await rm(path, { force: true });
}

/** Names of the namespace files in `dir` (pod uids); none when it does not exist. */
export async function listNetns(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => !name.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Undoes ensureNetnsDir (for reset): unmounts the directory's self bind mount(s). */
export async function releaseNetnsDir(dir: string): Promise<void> {
  for (const m of (await mounts()).filter((m) => m.mountPoint.startsWith(`${dir}/`)).reverse()) {
    await runIgnoring(['umount', m.mountPoint], /not mounted|no mount point/);
  }
  while ((await mounts()).some((m) => m.mountPoint === dir)) {
    await run(['umount', dir]);
  }
}

export const netnsPathFor = (dir: string, uid: string) => join(dir, uid);
