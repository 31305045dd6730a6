// Host facts and cgroup file access: which cgroup version the host runs,
// where each controller is mounted, the statistics `kubectl top` needs, the
// OOM-kill counter, and removing the cgroups a data dir's containers used.
import { createHash } from 'node:crypto';
import { readdir, readFile, rmdir, stat, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ContainerStats } from '../types.ts';
import { type CgroupVersion, type OciDevice, RLIMIT_NOFILE } from './oci-spec.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** statfs(2) f_type of a cgroup2 filesystem. */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** The cgroup parent of one data dir's containers: concurrent clusters never collide, reset finds them all. */
export function cgroupParentFor(dataDir: string): string {
  return `skiff-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8)}`;
}

export async function detectCgroupVersion(): Promise<CgroupVersion> {
  const fs = await statfs(CGROUP_ROOT);
  return fs.type === CGROUP2_SUPER_MAGIC ? 2 : 1;
}

/** Where cgroup hierarchies are mounted: v1 controller name → mount point, plus every cgroup mount point. */
export type CgroupMounts = { version: CgroupVersion; controllers: Map<string, string>; all: string[] };

/** Reads /proc/self/mountinfo: "id parent dev root mountpoint opts [optional...] - fstype source superopts". */
export async function cgroupMounts(version?: CgroupVersion): Promise<CgroupMounts> {
  const v = version ?? (await detectCgroupVersion());
  const controllers = new Map<string, string>();
  const all: string[] = [];
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of info.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = pre.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8)));
    all.push(mountPoint);
    if (fstype === 'cgroup')
      for (const opt of superOpts.split(',')) if (!controllers.has(opt)) controllers.set(opt, mountPoint);
  }
  if (v === 2) controllers.clear();
  return { version: v, controllers, all };
}

/** The directory of `cgroupPath` for a v1 controller, or the unified dir on v2. */
function dir(mounts: CgroupMounts, controller: string, cgroupPath: string): string | undefined {
  if (mounts.version === 2) return join(CGROUP_ROOT, cgroupPath);
  const mp = mounts.controllers.get(controller);
  return mp ? join(mp, cgroupPath) : undefined;
}

async function readText(path: string | undefined, file: string): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(join(path, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control) as numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/**
 * CPU time used and memory working set (usage minus inactive page cache,
 * what the kubelet reports and evicts on). Undefined when the cgroup is gone.
 */
export async function readCgroupStats(mounts: CgroupMounts, cgroupPath: string): Promise<ContainerStats | undefined> {
  const timestamp = new Date().toISOString();
  if (mounts.version === 2) {
    const d = dir(mounts, '', cgroupPath);
    const [cpuStat, current, memStat] = await Promise.all([
      readText(d, 'cpu.stat'),
      readText(d, 'memory.current'),
      readText(d, 'memory.stat'),
    ]);
    if (cpuStat === undefined || current === undefined) return undefined;
    const usage = Number(current.trim());
    const inactive = parseFlatKeyed(memStat ?? '').get('inactive_file') ?? 0;
    return {
      cpuUsageNanos: (parseFlatKeyed(cpuStat).get('usage_usec') ?? 0) * 1000,
      memoryWorkingSetBytes: Math.max(0, usage - inactive),
      timestamp,
    };
  }
  const cpuDir = dir(mounts, 'cpuacct', cgroupPath);
  const memDir = dir(mounts, 'memory', cgroupPath);
  const [cpu, usage, memStat] = await Promise.all([
    readText(cpuDir, 'cpuacct.usage'),
    readText(memDir, 'memory.usage_in_bytes'),
    readText(memDir, 'memory.stat'),
  ]);
  if (cpu === undefined || usage === undefined) return undefined;
  const inactive = parseFlatKeyed(memStat ?? '').get('total_inactive_file') ?? 0;
  return {
    cpuUsageNanos: Number(cpu.trim()),
    memoryWorkingSetBytes: Math.max(0, Number(usage.trim()) - inactive),
    timestamp,
  };
}

/**
 * Whether the OOM killer killed a process of this cgroup: the kernel's
 * oom_kill counter (v1 memory.oom_control, kernel ≥ 4.13; v2 memory.events).
 * Older v1 kernels lack the counter: then a hit memory limit (failcnt) and
 * death by SIGKILL (exit code 137) count as an OOM kill.
 */
export async function readOomKilled(
  mounts: CgroupMounts,
  cgroupPath: string,
  exitCode: number | undefined,
): Promise<boolean> {
  const d = dir(mounts, 'memory', cgroupPath);
  if (mounts.version === 2) {
    return (parseFlatKeyed((await readText(d, 'memory.events')) ?? '').get('oom_kill') ?? 0) > 0;
  }
  const control = parseFlatKeyed((await readText(d, 'memory.oom_control')) ?? '');
  const kills = control.get('oom_kill');
  if (kills !== undefined) return kills > 0;
  const failcnt = Number(((await readText(d, 'memory.failcnt')) ?? '0').trim());
  return failcnt > 0 && exitCode === 137;
}

async function rmdirTree(path: string): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await rmdirTree(join(path, e.name));
  // cgroup dirs hold only kernel files: rmdir succeeds once the cgroup has no processes and no children.
  await rmdir(path).catch(() => {});
}

/** Removes a cgroup and its children from every hierarchy (busy ones stay). */
export async function removeCgroupTree(mounts: CgroupMounts, cgroupPath: string): Promise<void> {
  const rel = cgroupPath.replace(/^\/+/, '');
  if (!rel) return; // never the root
  await Promise.all(mounts.all.map((mp) => rmdirTree(join(mp, rel))));
}

/** Removes empty cgroup dirs from `cgroupPath` up to (not including) `stopAt`, in every hierarchy. */
export async function removeEmptyCgroups(mounts: CgroupMounts, cgroupPath: string, stopAt: string): Promise<void> {
  const stop = stopAt.replace(/^\/+|\/+$/g, '');
  for (const mp of mounts.all) {
    let rel = cgroupPath.replace(/^\/+|\/+$/g, '');
    while (rel && rel !== stop && rel.startsWith(`${stop}/`)) {
      try {
        await rmdir(join(mp, rel));
      } catch (err) {
        // Gone already (runc removed it, or this hierarchy never had it): look further up.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') break;
      }
      rel = rel.slice(0, rel.lastIndexOf('/'));
    }
  }
}

/** Host /dev subdirectories that are per-container (or not devices), as containerd skips them. */
const SKIP_DEV_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** The host's device nodes for privileged containers (containerd's WithHostDevices). */
export async function hostDevices(root = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  const walk = async (d: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DEV_DIRS.has(e.name)) await walk(path);
        continue;
      }
      if (!e.isCharacterDevice() && !e.isBlockDevice()) continue;
      if (path === '/dev/console') continue;
      const st = await stat(path, { bigint: true }).catch(() => undefined);
      if (!st) continue;
      const rdev = st.rdev;
      const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      out.push({
        path,
        type: e.isCharacterDevice() ? 'c' : 'b',
        major,
        minor,
        fileMode: Number(st.mode & 0o777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
      });
    }
  };
  await walk(root);
  return out;
}

/** CAP_SYS_RESOURCE's bit in /proc/self/status CapEff. */
const CAP_SYS_RESOURCE_BIT = 24n;

/**
 * The open-files limit containers can get: RLIMIT_NOFILE when the agent may
 * raise hard limits (CAP_SYS_RESOURCE); otherwise runc's setrlimit above our
 * own hard limit fails with EPERM (e.g. inside a sandbox), so that limit.
 */
export async function nofileLimit(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  if (capEff && (BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE_BIT) & 1n) return RLIMIT_NOFILE;
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
  const n = hard && /^\d+$/.test(hard) ? Number(hard) : RLIMIT_NOFILE;
  return Math.min(n, RLIMIT_NOFILE);
}
