// Runs a script inside a fresh network namespace that has only loopback (no
// route out), which disappears with the process. Used by `npm test` and the
// benchmarks so that nothing they start can reach or be reached from outside.
// Fresh mount and PID namespaces come with it, so the mounts (overlays, netns
// files) and processes (containers) that tests leave behind vanish with it too.
import { spawnSync } from 'node:child_process';

/** Set in the re-executed child so it knows it is already inside the namespace. */
const NETNS_MARK = 'SKIFF_NETNS';

/** Whether this process already runs inside a namespace made by reexecInFreshNetns. */
export function inFreshNetns(): boolean {
  return process.env[NETNS_MARK] === '1';
}

/**
 * Returns at once when already inside the namespace. Otherwise runs
 * `node [execArgv] scriptPath ...args` under `unshare --net --mount --pid --fork` (plus
 * `--map-root-user` when not root) with loopback up, and exits this process
 * with the child's exit code.
 */
export function reexecInFreshNetns(scriptPath: string, args: string[]): void {
  if (inFreshNetns()) return;
  const asRoot = process.getuid?.() === 0;
  const unshare = ['--net', '--mount', '--propagation', 'private', '--pid', '--mount-proc', '--fork', ...(asRoot ? [] : ['--map-root-user'])];
  // "$0" "$@" pass the command through sh without any re-quoting.
  const inner = 'ip link set lo up && exec "$0" "$@"';
  const argv = [process.execPath, ...process.execArgv, scriptPath, ...args];
  const result = spawnSync('unshare', [...unshare, 'sh', '-c', inner, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [NETNS_MARK]: '1' },
  });
  if (result.error) throw result.error;
  process.exit(result.status ?? 1);
}
