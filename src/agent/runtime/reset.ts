// `skiff reset`, runtime part: every container of this data dir is killed and
// deleted, its shim gone, its files and runc state removed, and the cgroup
// tree named after the data dir removed from every hierarchy. The image
// store's overlays are unmounted by its own reset.
import { readdir, readFile, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive as alive } from '../../lib/process.ts';
import { cgroupMounts, removeCgroupTree } from './cgroups.ts';
import { Runc } from './runc.ts';
import { runtimePaths } from './runtime.ts';
import { SHIM_MARKER } from './shim.ts';

/** How long processes get to die after SIGKILL before reset carries on. */
const DEATH_WAIT_MS = 5000;
const DEATH_POLL_MS = 20;

async function waitGone(pids: number[]): Promise<void> {
  const deadline = Date.now() + DEATH_WAIT_MS;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, DEATH_POLL_MS));
}

async function shimPidOf(containersDir: string, id: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(join(containersDir, id, 'shim', 'shim.pid'), 'utf8').catch(() => ''), 10);
  if (!pid) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.startsWith(SHIM_MARKER) ? pid : undefined;
}

export async function resetRuntime(
  dataDir: string,
  options: { runc?: string } = {},
): Promise<{ containers: string[] }> {
  const paths = runtimePaths(dataDir);
  const runc = new Runc({ root: paths.runcRoot, binary: options.runc });
  const known = await runc.list().catch(() => []);
  const pids = known.map((c) => c.pid).filter((p) => p > 0);
  await Promise.all(known.map((c) => runc.kill(c.id, 'KILL', { all: true }).catch(() => {})));
  await waitGone(pids);
  await Promise.all(known.map((c) => runc.delete(c.id, { force: true }).catch(() => {})));

  // Shims exit once their container is reaped; a shim whose runc create never finished is ended here.
  const ids = await readdir(paths.containers).catch(() => [] as string[]);
  const shims = (await Promise.all(ids.map((id) => shimPidOf(paths.containers, id)))).filter(
    (p): p is number => p !== undefined,
  );
  await waitGone(shims);
  for (const pid of shims.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const id of ids) {
    await rm(join(paths.containers, id, 'shim'), { recursive: true, force: true });
    await unlink(join(paths.containers, id, 'config.json')).catch(() => {});
    await rmdir(join(paths.containers, id)).catch(() => {});
  }
  await rm(paths.runcRoot, { recursive: true, force: true });
  await removeCgroupTree(await cgroupMounts(), paths.cgroupParent);
  return { containers: [...new Set([...known.map((c) => c.id), ...ids])] };
}
