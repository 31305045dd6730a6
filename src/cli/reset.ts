// `skiff reset`: stop every pod and remove what skiff set up on this node —
// containers, overlay and volume mounts, pod network namespaces, the bridge
// and skiff's firewall rules. --purge also deletes the data directory.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resetHostGwRoutes, resetNodeNetwork } from '../agent/network/index.ts';
import { resetRuntime } from '../agent/runtime/index.ts';
import { removeDnsAddress } from '../dns/index.ts';
import { resetServiceProxy } from '../proxy/index.ts';
import { defaultDataDir } from './paths.ts';

const USAGE = `Usage: skiff reset [--data-dir DIR] [--purge]

Stops every container skiff started on this node and removes its mounts, pod
network namespaces, the skiff0 bridge and skiff's firewall rules. Stop
'skiff server' / 'skiff agent' first. --purge also deletes the data directory
(the cluster's state, certificates and images).
`;

/** Mount points under dir, deepest first (so nested mounts go before their parents). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

function umount(point: string): Promise<void> {
  return new Promise((done) => {
    // Lazy: a mount still busy (a process holding a file) is detached now and freed when released.
    const child = spawn('umount', ['-l', point], { stdio: 'ignore' });
    child.on('error', () => done());
    child.on('close', () => done());
  });
}

/** Everything but --purge: the node is left as if skiff had never run pods on it. */
export async function resetNode(dataDir: string, log: (line: string) => void = () => {}): Promise<void> {
  await resetRuntime(dataDir).then(
    () => log('containers stopped and removed'),
    (err) => log(`containers: ${err instanceof Error ? err.message : err}`),
  );
  await resetNodeNetwork(dataDir).then(
    () => log('pod networks, bridge and firewall rules removed'),
    (err) => log(`network: ${err instanceof Error ? err.message : err}`),
  );
  await resetHostGwRoutes().then(
    () => log('routes to other nodes removed'),
    (err) => log(`routes: ${err instanceof Error ? err.message : err}`),
  );
  await resetServiceProxy().then(
    () => log('service proxy rules removed'),
    (err) => log(`service proxy: ${err instanceof Error ? err.message : err}`),
  );
  await removeDnsAddress().then(
    () => log('cluster DNS address removed'),
    (err) => log(`dns: ${err instanceof Error ? err.message : err}`),
  );
  const mounts = mountsUnder(dataDir);
  for (const point of mounts) await umount(point);
  if (mounts.length > 0) log(`${mounts.length} mounts removed`);
}

export async function runReset(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      purge: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('skiff reset: must run as root (it removes containers, mounts and network devices)\n');
    return 1;
  }
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
  if (!existsSync(dataDir)) {
    process.stdout.write(`skiff reset: nothing to do, ${dataDir} does not exist\n`);
    return 0;
  }
  await resetNode(dataDir, (line) => process.stdout.write(`skiff reset: ${line}\n`));
  if (values.purge) {
    rmSync(dataDir, { recursive: true, force: true });
    process.stdout.write(`skiff reset: removed ${dataDir}\n`);
  }
  return 0;
}
