// Checks before the agent starts, each failure with what to do about it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export type PreflightProblem = { check: string; message: string };

const hasCommand = (cmd: string, args: string[] = ['--version']) => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Every problem found (empty when the node can run containers). */
export function preflight(options: { runc?: string } = {}): PreflightProblem[] {
  const out: PreflightProblem[] = [];
  if (process.getuid?.() !== 0) {
    out.push({
      check: 'root',
      message: 'the node agent must run as root (it creates network namespaces, mounts and cgroups): run it with sudo',
    });
  }
  if (!hasCommand(options.runc ?? 'runc')) {
    out.push({
      check: 'runc',
      message: 'runc was not found on PATH: install it (Debian/Ubuntu: apt-get install runc)',
    });
  }
  const cgroups =
    existsSync('/sys/fs/cgroup/cgroup.controllers') ||
    existsSync('/sys/fs/cgroup/memory') ||
    existsSync('/sys/fs/cgroup/cpu');
  if (!cgroups) {
    out.push({
      check: 'cgroups',
      message:
        'no cgroup filesystem is mounted at /sys/fs/cgroup: mount cgroup2 there (mount -t cgroup2 none /sys/fs/cgroup)',
    });
  }
  const filesystems = existsSync('/proc/filesystems') ? readFileSync('/proc/filesystems', 'utf8') : '';
  if (!/\toverlay$/m.test(filesystems) && !hasCommand('modprobe', ['-n', 'overlay'])) {
    out.push({
      check: 'overlay',
      message:
        'the kernel does not support overlayfs: load it (modprobe overlay) or use a kernel with CONFIG_OVERLAY_FS',
    });
  }
  if (!hasCommand('ip', ['-V'])) {
    out.push({
      check: 'ip',
      message: 'the ip command (iproute2) was not found: install it (Debian/Ubuntu: apt-get install iproute2)',
    });
  }
  return out;
}

export function preflightMessage(problems: PreflightProblem[]): string {
  return `the node agent cannot start on this machine:\n${problems.map((p) => `  - ${p.check}: ${p.message}`).join('\n')}\n`;
}
