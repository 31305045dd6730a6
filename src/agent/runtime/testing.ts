// Test helpers: a busybox root filesystem and container specs, without the
// image store, so the runtime's tests stand alone.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerSpec } from '../types.ts';
import { cgroupParentFor } from './cgroups.ts';

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

/** Whether the runtime's root-only tests can run here. */
export function canRunContainers(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!BUSYBOX) return 'needs busybox-static';
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs runc';
  }
  return undefined;
}

/** A root filesystem of static busybox with every applet linked in /bin. */
export function makeBusyboxRootfs(dir: string): string {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'www', 'root'])
    mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX!, join(dir, 'bin', 'busybox'));
  const applets = execFileSync(BUSYBOX!, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(
    join(dir, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\n');
  writeFileSync(join(dir, 'www', 'index.html'), 'hello from www\n');
  return dir;
}

/** A spec for a busybox container under this data dir's cgroup parent. */
export function testSpec(
  dataDir: string,
  rootfs: string,
  id: string,
  args: string[],
  extra: Partial<ContainerSpec> = {},
): ContainerSpec {
  return {
    id,
    rootfs,
    args,
    env: ['PATH=/bin', 'HOME=/root'],
    cwd: '/',
    user: { uid: 0, gid: 0 },
    hostname: id,
    mounts: [],
    cgroupPath: `${cgroupParentFor(dataDir)}/podtest/${id}`,
    logPath: join(dataDir, 'logs', 'pods', 'ns_pod_uid', id, '0.log'),
    labels: { 'io.kubernetes.container.name': id },
    ...extra,
  };
}
