// The OCI runtime spec (config.json) for one container, as a pure function of
// the ContainerSpec and a few facts about the host. Defaults follow
// containerd's CRI plugin (capabilities, mounts, masked and read-only paths),
// so workloads see what they would see on a kubelet with containerd.
//
// Not set, on purpose: seccomp and AppArmor profiles (containers run
// unconfined, as with `seccompProfile: Unconfined`), user namespaces, swap
// limits and oom_score_adj.
import type { ContainerSpec, Mount } from '../types.ts';

export type CgroupVersion = 1 | 2;

export type OciDevice = {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
};

export type HostInfo = {
  cgroupVersion: CgroupVersion;
  /** The host's device nodes, given to privileged containers (see hostDevices()). */
  devices?: OciDevice[];
  /** The RLIMIT_NOFILE containers get: RLIMIT_NOFILE unless the agent may not raise its hard limit that far (see nofileLimit()). */
  nofile?: number;
};

/** Annotation carrying the container's labels (JSON), so list() recovers them after an agent restart. */
export const LABELS_ANNOTATION = 'io.skiff.container.labels';

/** containerd's limit (its systemd unit's LimitNOFILE, inherited by CRI containers): servers expect many fds. */
export const RLIMIT_NOFILE = 1048576;

/** containerd's size for the /dev and /dev/shm tmpfs (64 MiB), counted against the container's memory. */
const DEV_TMPFS_SIZE = 'size=65536k';

/** The capabilities containerd grants by default (oci.defaultUnixCaps). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every capability Linux defines (up to 6.x); runc ignores the ones the running kernel lacks. */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** containerd's defaults: kernel interfaces that leak host information or allow host changes. */
export const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

type OciMount = { destination: string; type: string; source: string; options: string[] };

/** Kubernetes writes capabilities without the prefix ("NET_ADMIN"); the OCI spec wants "CAP_NET_ADMIN". */
function capName(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/**
 * containerd's order: "ALL" in add grants everything and "ALL" in drop
 * removes everything first, so that individual adds and drops still apply
 * (add ALL + drop CHOWN = everything but CAP_CHOWN).
 */
export function effectiveCapabilities(sc: ContainerSpec['securityContext'] = {}): string[] {
  if (sc.privileged) return [...ALL_CAPABILITIES];
  const add = sc.capabilitiesAdd ?? [];
  const drop = sc.capabilitiesDrop ?? [];
  const isAll = (c: string) => c.toUpperCase() === 'ALL';
  let caps = new Set(DEFAULT_CAPABILITIES);
  if (add.some(isAll)) caps = new Set(ALL_CAPABILITIES);
  if (drop.some(isAll)) caps = new Set();
  for (const c of add) if (!isAll(c)) caps.add(capName(c));
  for (const c of drop) if (!isAll(c)) caps.delete(capName(c));
  return [...caps];
}

function defaultMounts(options: { privileged: boolean }): OciMount[] {
  const sysMode = options.privileged ? 'rw' : 'ro';
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', DEV_TMPFS_SIZE],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', DEV_TMPFS_SIZE],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', sysMode] },
    {
      destination: '/sys/fs/cgroup',
      // runc mounts the container's own cgroup dirs here (v1: one per controller; v2: the unified tree).
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', sysMode],
    },
  ];
}

/** A volume mount: bind mounts are recursive (rbind) and private, other types (tmpfs) pass through. */
function volumeMount(m: Mount): OciMount {
  const type = m.type ?? 'bind';
  const options = [...(m.options ?? [])];
  if (type === 'bind') {
    if (!options.includes('rbind') && !options.includes('bind')) options.unshift('rbind');
    if (!options.some((o) => /^r?(private|shared|slave)$/.test(o))) options.push('rprivate');
  }
  return { destination: m.destination, type, source: m.source, options };
}

function namespaces(spec: ContainerSpec, cgroupVersion: CgroupVersion): { type: string; path?: string }[] {
  const shared = (type: string, ns: string) =>
    spec.sharePid ? { type, path: `/proc/${spec.sharePid}/ns/${ns}` } : { type };
  const list: { type: string; path?: string }[] = [
    shared('pid', 'pid'),
    shared('ipc', 'ipc'),
    shared('uts', 'uts'),
    { type: 'mount' },
  ];
  if (spec.netnsPath) list.push({ type: 'network', path: spec.netnsPath });
  // As containerd on v2 hosts: the container sees its own cgroup as the root of /sys/fs/cgroup.
  if (cgroupVersion === 2) list.push({ type: 'cgroup' });
  return list;
}

function resources(spec: ContainerSpec, privileged: boolean): Record<string, unknown> {
  const r = spec.resources ?? {};
  const out: Record<string, unknown> = {
    // Deny every device, then runc appends its default allow-list (null, zero, random, tty, ptmx...).
    devices: [{ allow: privileged, access: 'rwm' }],
  };
  const cpu: Record<string, number> = {};
  if (r.cpuShares !== undefined) cpu.shares = r.cpuShares;
  if (r.cpuQuota !== undefined) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod !== undefined) cpu.period = r.cpuPeriod;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.memoryLimit !== undefined) out.memory = { limit: r.memoryLimit };
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit };
  return out;
}

/** The cgroup path runc gets: absolute (from the hierarchy's root), never relative to runc's own cgroup. */
export function absoluteCgroupPath(cgroupPath: string): string {
  return cgroupPath.startsWith('/') ? cgroupPath : `/${cgroupPath}`;
}

/** config.json for runc. */
export function ociSpec(spec: ContainerSpec, host: HostInfo): Record<string, unknown> {
  const privileged = spec.securityContext?.privileged === true;
  const caps = effectiveCapabilities(spec.securityContext);
  const userDestinations = new Set(spec.mounts.map((m) => m.destination.replace(/\/+$/, '') || '/'));
  const mounts = [
    ...defaultMounts({ privileged }).filter((m) => !userDestinations.has(m.destination)),
    ...spec.mounts.map(volumeMount),
  ];
  const linux: Record<string, unknown> = {
    namespaces: namespaces(spec, host.cgroupVersion),
    resources: resources(spec, privileged),
    cgroupsPath: absoluteCgroupPath(spec.cgroupPath),
  };
  if (privileged) {
    linux.devices = host.devices ?? [];
  } else {
    linux.maskedPaths = MASKED_PATHS;
    linux.readonlyPaths = READONLY_PATHS;
  }
  const user: Record<string, unknown> = { uid: spec.user.uid, gid: spec.user.gid };
  if (spec.user.additionalGids?.length) user.additionalGids = spec.user.additionalGids;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.tty === true,
      user,
      args: spec.args,
      env: spec.env,
      cwd: spec.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: host.nofile ?? RLIMIT_NOFILE, soft: host.nofile ?? RLIMIT_NOFILE }],
      noNewPrivileges: spec.securityContext?.noNewPrivileges === true,
    },
    root: { path: spec.rootfs, readonly: spec.readonlyRootfs === true },
    hostname: spec.hostname,
    mounts,
    annotations: { [LABELS_ANNOTATION]: JSON.stringify(spec.labels) },
    linux,
  };
}

/** The labels stored by ociSpec, read back from a config.json object. */
export function labelsFromOciSpec(config: { annotations?: Record<string, string> }): Record<string, string> {
  const raw = config.annotations?.[LABELS_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw);
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}
