import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerSpec } from '../types.ts';
import {
  ALL_CAPABILITIES,
  DEFAULT_CAPABILITIES,
  effectiveCapabilities,
  labelsFromOciSpec,
  MASKED_PATHS,
  ociSpec,
  READONLY_PATHS,
  RLIMIT_NOFILE,
} from './oci-spec.ts';

const base: ContainerSpec = {
  id: 'c1',
  rootfs: '/data/agent/containers/c1/rootfs',
  args: ['nginx', '-g', 'daemon off;'],
  env: ['PATH=/bin', 'A=b'],
  cwd: '/srv',
  user: { uid: 1000, gid: 1000, additionalGids: [5, 6] },
  hostname: 'web-0',
  mounts: [],
  cgroupPath: 'skiff-0123abcd/podu1/c1',
  logPath: '/data/logs/pods/ns_web-0_u1/nginx/0.log',
  labels: { 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.container.name': 'nginx' },
};

// biome-ignore lint/suspicious/noExplicitAny: config.json is untyped JSON
type Json = any;
const v1 = (spec: Partial<ContainerSpec> = {}): Json => ociSpec({ ...base, ...spec }, { cgroupVersion: 1 });

describe('ociSpec', () => {
  test('process: argv, env, cwd, user with extra groups, terminal, rlimit, no_new_privs', () => {
    const p = v1().process;
    assert.deepEqual(p.args, base.args);
    assert.deepEqual(p.env, base.env);
    assert.equal(p.cwd, '/srv');
    assert.deepEqual(p.user, { uid: 1000, gid: 1000, additionalGids: [5, 6] });
    assert.equal(p.terminal, false);
    assert.deepEqual(p.rlimits, [{ type: 'RLIMIT_NOFILE', hard: RLIMIT_NOFILE, soft: RLIMIT_NOFILE }]);
    assert.equal(p.noNewPrivileges, false);
    assert.equal(v1({ tty: true }).process.terminal, true);
    assert.equal(v1({ securityContext: { noNewPrivileges: true } }).process.noNewPrivileges, true);
    assert.equal(v1({ cwd: '' }).process.cwd, '/');
    assert.deepEqual(v1({ user: { uid: 0, gid: 0 } }).process.user, { uid: 0, gid: 0 });
    const capped = ociSpec(base, { cgroupVersion: 1, nofile: 20000 }) as Json;
    assert.equal(capped.process.rlimits[0].hard, 20000);
  });

  test('root, hostname, cgroup path made absolute, labels in an annotation that reads back', () => {
    const s = v1({ readonlyRootfs: true });
    assert.deepEqual(s.root, { path: base.rootfs, readonly: true });
    assert.equal(s.hostname, 'web-0');
    assert.equal(s.linux.cgroupsPath, '/skiff-0123abcd/podu1/c1');
    assert.equal(v1({ cgroupPath: '/x/y' }).linux.cgroupsPath, '/x/y');
    assert.deepEqual(labelsFromOciSpec(s), base.labels);
    assert.deepEqual(labelsFromOciSpec({}), {});
    assert.deepEqual(labelsFromOciSpec({ annotations: { 'io.skiff.container.labels': '{bad' } }), {});
  });

  test('default capabilities are containerd’s, in bounding, effective and permitted', () => {
    const caps = v1().process.capabilities;
    assert.deepEqual(caps.bounding, DEFAULT_CAPABILITIES);
    assert.deepEqual(caps.effective, DEFAULT_CAPABILITIES);
    assert.deepEqual(caps.permitted, DEFAULT_CAPABILITIES);
    assert.equal(caps.inheritable, undefined);
    assert.equal(caps.ambient, undefined);
  });

  test('capability add and drop, with Kubernetes names and ALL', () => {
    const added = effectiveCapabilities({ capabilitiesAdd: ['NET_ADMIN', 'sys_time'], capabilitiesDrop: ['KILL'] });
    assert.ok(added.includes('CAP_NET_ADMIN') && added.includes('CAP_SYS_TIME'));
    assert.ok(!added.includes('CAP_KILL'));
    assert.deepEqual(effectiveCapabilities({ capabilitiesDrop: ['ALL'] }), []);
    assert.deepEqual(effectiveCapabilities({ capabilitiesDrop: ['ALL'], capabilitiesAdd: ['NET_BIND_SERVICE'] }), [
      'CAP_NET_BIND_SERVICE',
    ]);
    const allButChown = effectiveCapabilities({ capabilitiesAdd: ['ALL'], capabilitiesDrop: ['CHOWN'] });
    assert.equal(allButChown.length, ALL_CAPABILITIES.length - 1);
    assert.ok(!allButChown.includes('CAP_CHOWN'));
  });

  test('privileged: every capability and host device, devices allowed, /sys and cgroups writable, nothing masked', () => {
    const dev = { path: '/dev/fuse', type: 'c' as const, major: 10, minor: 229 };
    const s = ociSpec(
      { ...base, securityContext: { privileged: true, capabilitiesDrop: ['ALL'] } },
      { cgroupVersion: 1, devices: [dev] },
    ) as Json;
    assert.deepEqual(s.process.capabilities.bounding, ALL_CAPABILITIES);
    assert.deepEqual(s.linux.devices, [dev]);
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    assert.equal(s.linux.maskedPaths, undefined);
    assert.equal(s.linux.readonlyPaths, undefined);
    const sys = s.mounts.find((m: Json) => m.destination === '/sys');
    const cg = s.mounts.find((m: Json) => m.destination === '/sys/fs/cgroup');
    assert.ok(sys.options.includes('rw') && cg.options.includes('rw'));
  });

  test('unprivileged: masked and read-only paths, devices denied, /sys read-only', () => {
    const s = v1();
    assert.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
    assert.deepEqual(s.linux.readonlyPaths, READONLY_PATHS);
    assert.ok(s.linux.maskedPaths.includes('/proc/kcore'));
    assert.deepEqual(s.linux.resources.devices, [{ allow: false, access: 'rwm' }]);
    assert.equal(s.linux.devices, undefined);
    assert.ok(s.mounts.find((m: Json) => m.destination === '/sys').options.includes('ro'));
  });

  test('namespaces: own pid/ipc/uts/mount, the pod’s network by path, shared pid/ipc/uts, cgroup ns on v2', () => {
    assert.deepEqual(v1().linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]);
    assert.deepEqual(v1({ netnsPath: '/data/agent/netns/u1', sharePid: 4242 }).linux.namespaces, [
      { type: 'pid', path: '/proc/4242/ns/pid' },
      { type: 'ipc', path: '/proc/4242/ns/ipc' },
      { type: 'uts', path: '/proc/4242/ns/uts' },
      { type: 'mount' },
      { type: 'network', path: '/data/agent/netns/u1' },
    ]);
    const s2 = ociSpec(base, { cgroupVersion: 2 }) as Json;
    assert.ok(s2.linux.namespaces.some((n: Json) => n.type === 'cgroup'));
  });

  test('mounts: the standard set, volumes as recursive private binds, a volume replaces a default at the same place', () => {
    const s = v1({
      mounts: [
        { destination: '/etc/hosts', source: '/data/agent/pods/u1/etc-hosts', options: ['ro'] },
        { destination: '/cache', source: 'tmpfs', type: 'tmpfs', options: ['size=1m'] },
        { destination: '/dev/shm', source: '/data/agent/pods/u1/shm', options: ['rbind', 'rw', 'rslave'] },
      ],
    });
    const dests = s.mounts.map((m: Json) => m.destination);
    assert.deepEqual(dests, [
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/mqueue',
      '/sys',
      '/sys/fs/cgroup',
      '/etc/hosts',
      '/cache',
      '/dev/shm',
    ]);
    const byDest = (d: string) => s.mounts.find((m: Json) => m.destination === d);
    assert.deepEqual(byDest('/etc/hosts'), {
      destination: '/etc/hosts',
      type: 'bind',
      source: '/data/agent/pods/u1/etc-hosts',
      options: ['rbind', 'ro', 'rprivate'],
    });
    assert.deepEqual(byDest('/cache'), { destination: '/cache', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    assert.deepEqual(byDest('/dev/shm').options, ['rbind', 'rw', 'rslave']);
    assert.equal(byDest('/sys/fs/cgroup').type, 'cgroup');
    assert.ok(byDest('/dev/pts').options.includes('newinstance'));
    assert.equal(byDest('/dev/mqueue').type, 'mqueue');
  });

  test('resources: cpu shares, quota and period, memory and pids limits', () => {
    const r = v1({
      resources: { cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, memoryLimit: 64 << 20, pidsLimit: 100 },
    }).linux.resources;
    assert.deepEqual(r.cpu, { shares: 512, quota: 50000, period: 100000 });
    assert.deepEqual(r.memory, { limit: 64 << 20 });
    assert.deepEqual(r.pids, { limit: 100 });
    const none = v1().linux.resources;
    assert.equal(none.cpu, undefined);
    assert.equal(none.memory, undefined);
  });

  test('no seccomp or AppArmor profile is set (containers run unconfined)', () => {
    const s = v1();
    assert.equal(s.linux.seccomp, undefined);
    assert.equal(s.process.apparmorProfile, undefined);
  });
});
