// Overlay root filesystems: lower dirs are the image's unpacked layers (shared
// by every container of the image), upper and work dirs belong to the one
// container. The mount record beside them tells garbage collection which
// image is in use, whichever process asks.
import { runCommand } from '../../lib/exec.ts';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageError } from './errors.ts';

export type ContainerRootfsPaths = { dir: string; rootfs: string; upper: string; work: string; record: string };

/** `<data-dir>/agent/containers/<id>/`: rootfs (the merged view), overlay/{upper,work}, rootfs.json. */
export function containerRootfsPaths(containersDir: string, containerId: string): ContainerRootfsPaths {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(containerId)) {
    throw new ImageError('InvalidArchive', `invalid container id "${containerId}"`);
  }
  const dir = join(containersDir, containerId);
  return {
    dir,
    rootfs: join(dir, 'rootfs'),
    upper: join(dir, 'overlay', 'upper'),
    work: join(dir, 'overlay', 'work'),
    record: join(dir, 'rootfs.json'),
  };
}

export type MountRecord = { imageId: string; layers: string[] };

async function run(cmd: string, args: string[], cwd?: string): Promise<{ code: number; stderr: string }> {
  const r = await runCommand([cmd, ...args], { cwd });
  if (r.code === null) throw new Error(`cannot run ${cmd}: ${r.stderr}`);
  return { code: r.code, stderr: r.stderr.trim() };
}

/** Whether `path` is a mount point (in this mount namespace). */
export async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return info.split('\n').some((line) => line.split(' ')[4] === escaped);
}

/**
 * Mounts the overlay. Lower dirs are passed relative to `layersDir` (mount
 * runs there) to stay far below the kernel's one-page limit on mount options.
 */
export async function mountOverlay(options: {
  layersDir: string;
  /** Layer dirs relative to layersDir, top layer first. */
  lower: string[];
  paths: ContainerRootfsPaths;
  record: MountRecord;
}): Promise<void> {
  const { paths } = options;
  await mkdir(paths.upper, { recursive: true });
  await mkdir(paths.work, { recursive: true });
  await mkdir(paths.rootfs, { recursive: true });
  await writeFile(paths.record, JSON.stringify(options.record));
  const data = `lowerdir=${options.lower.join(':')},upperdir=${paths.upper},workdir=${paths.work}`;
  const { code, stderr } = await run('mount', ['-t', 'overlay', 'overlay', '-o', data, paths.rootfs], options.layersDir);
  if (code !== 0) {
    await rm(paths.record, { force: true });
    throw new Error(`overlay mount of ${paths.rootfs} failed: ${stderr}`);
  }
}

/** Unmounts (lazily if busy) and removes the container's writable layer and mount record. */
export async function unmountOverlay(paths: ContainerRootfsPaths): Promise<void> {
  if (await isMountPoint(paths.rootfs)) {
    const first = await run('umount', [paths.rootfs]);
    if (first.code !== 0) {
      const lazy = await run('umount', ['-l', paths.rootfs]);
      if (lazy.code !== 0) throw new Error(`unmount of ${paths.rootfs} failed: ${first.stderr}`);
    }
  }
  await rm(join(paths.dir, 'overlay'), { recursive: true, force: true });
  await rm(paths.rootfs, { recursive: true, force: true });
  await rm(paths.record, { force: true });
  // The container dir also holds the runtime's bundle; remove it only if nothing else is left.
  await rmdir(paths.dir).catch(() => {});
}

export async function readMountRecord(paths: ContainerRootfsPaths): Promise<MountRecord | undefined> {
  try {
    return JSON.parse(await readFile(paths.record, 'utf8')) as MountRecord;
  } catch {
    return undefined;
  }
}
