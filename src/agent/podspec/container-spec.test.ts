import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import type { ImageRecord } from '../types.ts';
import { containerSpec, containerSpecFromRootfs, effectiveCapabilities, ociCapabilities, podHostname } from './container-spec.ts';
import { prepareTerminationMessageFile } from './termination.ts';

const image: ImageRecord = {
  names: ['docker.io/library/nginx:1.14.2'],
  id: 'sha256:abc',
  config: { entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'], env: ['PATH=/usr/bin:/bin', 'NGINX_VERSION=1.14.2'], workingDir: '/srv', user: '101' },
  layers: [],
  size: 0,
};

function pod(container: object, spec: object = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'ns', uid: 'uid-1' },
    spec: { containers: [{ name: 'web', ...container }], ...spec },
  };
}

const base = (p: KubeObject) => ({
  pod: p,
  container: p.spec.containers[0],
  image,
  rootfs: '/rootfs',
  resolvedEnv: ['GREETING=hi', 'PATH=/custom'],
  mounts: [],
  netnsPath: '/var/lib/skiff/agent/netns/uid-1',
  cgroupPath: 'skiff-1234abcd/poduid-1/web',
  logPath: '/logs/0.log',
  id: 'ctr-1',
});

test('defaults from the image', () => {
  const spec = containerSpec(base(pod({})));
  assert.deepEqual(spec.args, ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
  assert.deepEqual(spec.env, ['PATH=/custom', 'NGINX_VERSION=1.14.2', 'GREETING=hi']);
  assert.equal(spec.cwd, '/srv');
  assert.deepEqual(spec.user, { uid: 101, gid: 0, additionalGids: [0] });
  assert.equal(spec.hostname, 'web-0');
  assert.equal(spec.readonlyRootfs, false);
  assert.deepEqual(spec.resources, { cpuShares: 2 });
  assert.deepEqual(spec.securityContext, { privileged: false, capabilitiesAdd: [], capabilitiesDrop: [], noNewPrivileges: false });
  assert.equal(spec.netnsPath, '/var/lib/skiff/agent/netns/uid-1');
  assert.deepEqual(spec.labels, {
    'io.kubernetes.pod.name': 'web-0',
    'io.kubernetes.pod.namespace': 'ns',
    'io.kubernetes.pod.uid': 'uid-1',
    'io.kubernetes.container.name': 'web',
  });
});

test('container fields override: command/args with $(VAR), workingDir, securityContext, resources, tty', () => {
  const p = pod(
    {
      command: ['sh', '-c'],
      args: ['echo $(GREETING)'],
      workingDir: '/work',
      tty: true,
      stdin: true,
      securityContext: {
        runAsUser: 1000,
        readOnlyRootFilesystem: true,
        privileged: true,
        allowPrivilegeEscalation: false,
        capabilities: { add: ['NET_ADMIN'], drop: ['all'] },
      },
      resources: { limits: { cpu: '250m', memory: '32Mi' } },
      terminationMessagePath: '/tmp/msg',
    },
    { hostname: 'x'.repeat(62) + '-y', securityContext: { runAsGroup: 3000 } },
  );
  const spec = containerSpec({ ...base(p), terminationMessageFile: '/pods/uid-1/containers/web/0', labels: { 'skiff.restart': '0' } });
  assert.deepEqual(spec.args, ['sh', '-c', 'echo hi']);
  assert.equal(spec.cwd, '/work');
  assert.equal(spec.tty, true);
  assert.equal(spec.stdin, true);
  assert.deepEqual(spec.user, { uid: 1000, gid: 3000, additionalGids: [3000] });
  assert.equal(spec.readonlyRootfs, true);
  assert.deepEqual(spec.securityContext, { privileged: true, capabilitiesAdd: ['CAP_NET_ADMIN'], capabilitiesDrop: ['ALL'], noNewPrivileges: true });
  assert.deepEqual(spec.resources, { cpuShares: 256, cpuQuota: 25_000, cpuPeriod: 100_000, memoryLimit: 32 * 2 ** 20 });
  assert.equal(spec.hostname, 'x'.repeat(62));
  assert.deepEqual(spec.mounts.at(-1), { destination: '/tmp/msg', source: '/pods/uid-1/containers/web/0', type: 'bind', options: ['rbind', 'rprivate', 'rw'] });
  assert.equal(spec.labels['skiff.restart'], '0');
});

test('workingDir falls back to /; hostname override; env given as vars', () => {
  const noDir = { ...image, config: { ...image.config, workingDir: undefined } };
  const spec = containerSpec({ ...base(pod({})), image: noDir, hostname: 'node-1', resolvedEnv: [{ name: 'A', value: 'x=y' }] });
  assert.equal(spec.cwd, '/');
  assert.equal(spec.hostname, 'node-1');
  assert.ok(spec.env.includes('A=x=y'));
  assert.equal(podHostname(pod({}, { hostname: 'h' })), 'h');
});

test('named image users are resolved from the rootfs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'podspec-rootfs-'));
  try {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\nnginx:x:101:102::/:/bin/false\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnginx:x:102:\nwww:x:33:nginx\n');
    const named = { ...image, config: { ...image.config, user: 'nginx' } };
    const spec = await containerSpecFromRootfs({ ...base(pod({})), image: named, rootfs: root });
    assert.deepEqual(spec.user, { uid: 101, gid: 102, additionalGids: [102, 33] });
    assert.equal(spec.rootfs, root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('capabilities: names, defaults, ALL, drop wins', () => {
  assert.deepEqual(ociCapabilities(['net_admin', 'CAP_SYS_TIME', 'ALL']), ['CAP_NET_ADMIN', 'CAP_SYS_TIME', 'ALL']);
  const all = ['CAP_A', 'CAP_B', 'CAP_CHOWN'];
  assert.deepEqual(effectiveCapabilities({ drop: ['ALL'], add: ['NET_BIND_SERVICE'], all }), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(effectiveCapabilities({ add: ['ALL'], drop: ['A'], all }), ['CAP_B', 'CAP_CHOWN']);
  const defaults = effectiveCapabilities({ add: ['NET_ADMIN'], drop: ['NET_RAW', 'NET_ADMIN'], all });
  assert.ok(defaults.includes('CAP_CHOWN') && !defaults.includes('CAP_NET_RAW') && !defaults.includes('CAP_NET_ADMIN'));
});

test('termination message file: per restart, world-writable, emptied', async () => {
  const podDir = mkdtempSync(join(tmpdir(), 'podspec-term-'));
  try {
    const path = await prepareTerminationMessageFile({ podDir, containerName: 'web', restartCount: 2 });
    assert.equal(path, join(podDir, 'containers', 'web', '2'));
    writeFileSync(path, 'old');
    await prepareTerminationMessageFile({ podDir, containerName: 'web', restartCount: 2 });
    const st = statSync(path);
    assert.equal(st.size, 0);
    assert.equal(st.mode & 0o777, 0o666);
    await assert.rejects(prepareTerminationMessageFile({ podDir, containerName: '../x', restartCount: 0 }), /invalid container name/);
  } finally {
    rmSync(podDir, { recursive: true, force: true });
  }
});
