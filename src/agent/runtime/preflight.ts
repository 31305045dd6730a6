// What the runtime needs from the machine, checked up front so that a
// missing piece gives one actionable message instead of a failed container.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Commands the runtime runs, and the Debian package that has each. */
const REQUIRED_COMMANDS: [command: string, pkg: string, why: string][] = [
  ['runc', 'runc', 'runs containers'],
  ['perl', 'perl-base', 'the per-container shim that records exit codes'],
  ['script', 'util-linux (bsdutils)', 'terminals for tty containers and kubectl exec -it'],
  ['stty', 'coreutils', 'terminal resizes'],
  ['fallocate', 'util-linux', 'freeing consumed raw log space'],
  ['mkfifo', 'coreutils', 'stdin of tty containers'],
];

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Problems that stop the runtime from working here (empty when all is well). */
export function runtimePreflight(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('skiff must run as root to run containers (try sudo)');
  for (const [cmd, pkg, why] of REQUIRED_COMMANDS) {
    if (!onPath(cmd)) problems.push(`"${cmd}" is missing (${why}): apt-get install ${pkg.split(' ')[0]}`);
  }
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers') && !existsSync('/sys/fs/cgroup/memory')) {
    problems.push('no cgroup filesystem at /sys/fs/cgroup (cgroup v2, or v1 with the memory controller, is needed)');
  }
  return problems;
}
