import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { containerMounts, planContainerMounts } from './mounts.ts';
import { ContainerConfigError, type ObjectGetter, VolumeError } from './types.ts';
import { cleanupPodVolumes, emptyDirMemorySize, mountsUnder, preparePodVolumes } from './volumes.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
let podDir: string;
let store: Map<string, KubeObject>;
const getter = (kind: string): ObjectGetter => (ns, name) => store.get(`${kind}/${ns}/${name}`);

beforeEach(() => {
  podDir = mkdtempSync(join(tmpdir(), 'podspec-volumes-'));
  store = new Map([
    ['ConfigMap/ns/cfg', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { 'app.conf': 'v1', other: 'o' }, binaryData: { bin: b64('\x00\x01') } }],
    ['Secret/ns/sec', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec' }, data: { password: b64('pw') } }],
  ]);
});
afterEach(async () => {
  await cleanupPodVolumes(podDir);
  rmSync(podDir, { recursive: true, force: true });
});

function pod(volumes: object[], extra: object = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'uid-1', labels: { app: 'x' } },
    spec: { containers: [{ name: 'c', resources: { limits: { cpu: '500m', memory: '64Mi' } } }], volumes, ...extra },
  };
}

const prepare = (p: KubeObject, extra: object = {}) =>
  preparePodVolumes({ pod: p, podDir, getConfigMap: getter('ConfigMap'), getSecret: getter('Secret'), ...extra });

test('configMap and secret volumes: all keys or items, modes, atomic layout, read-only', async () => {
  const vols = await prepare(
    pod([
      { name: 'all', configMap: { name: 'cfg', defaultMode: 0o600 } },
      { name: 'some', configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o400 }] } },
      { name: 'creds', secret: { secretName: 'sec' } },
      { name: 'maybe', secret: { secretName: 'gone', optional: true } },
    ]),
  );
  const all = vols.get('all')!;
  assert.equal(all.path, join(podDir, 'volumes', 'kubernetes.io~configmap', 'all'));
  assert.equal(all.readOnly, true);
  assert.equal(readFileSync(join(all.path, 'app.conf'), 'utf8'), 'v1');
  assert.deepEqual([...readFileSync(join(all.path, 'bin'))], [0, 1]);
  assert.equal(statSync(join(all.path, 'other')).mode & 0o777, 0o600);
  assert.equal(readlinkSync(join(all.path, 'app.conf')), '..data/app.conf');
  const some = vols.get('some')!;
  assert.equal(readFileSync(join(some.path, 'conf', 'app.conf'), 'utf8'), 'v1');
  assert.equal(statSync(join(some.path, 'conf', 'app.conf')).mode & 0o777, 0o400);
  assert.ok(!existsSync(join(some.path, 'other')));
  assert.equal(readFileSync(join(vols.get('creds')!.path, 'password'), 'utf8'), 'pw');
  assert.equal(vols.get('creds')!.path, join(podDir, 'volumes', 'kubernetes.io~secret', 'creds'));
  assert.ok(existsSync(join(vols.get('maybe')!.path, '..data')));

  // An update appears atomically under the same names.
  store.get('ConfigMap/ns/cfg')!.data['app.conf'] = 'v2';
  await prepare(pod([{ name: 'all', configMap: { name: 'cfg' } }]));
  assert.equal(readFileSync(join(all.path, 'app.conf'), 'utf8'), 'v2');
});

test('missing objects and keys fail as FailedMount', async () => {
  const fails = async (volume: object, message: string) =>
    assert.rejects(prepare(pod([volume])), (err: unknown) => {
      assert.ok(err instanceof VolumeError);
      assert.equal(err.eventMessage, message);
      return true;
    });
  await fails({ name: 'v', configMap: { name: 'nope' } }, 'MountVolume.SetUp failed for volume "v" : configmap "nope" not found');
  await fails({ name: 'v', secret: { secretName: 'nope' } }, 'MountVolume.SetUp failed for volume "v" : secret "nope" not found');
  await fails(
    { name: 'v', configMap: { name: 'cfg', items: [{ key: 'k', path: 'k' }] } },
    'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: k',
  );
  await fails({ name: 'v', persistentVolumeClaim: { claimName: 'x' } }, 'MountVolume.SetUp failed for volume "v" : volume type persistentVolumeClaim is not supported on this node');
  await fails({ name: '../x', emptyDir: {} }, 'MountVolume.SetUp failed for volume "../x" : invalid volume name "../x"');
});

test('downwardAPI and projected (kube-api-access shape) volumes', async () => {
  const requests: object[] = [];
  const vols = await prepare(
    pod([
      {
        name: 'info',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
          ],
        },
      },
      {
        name: 'kube-api-access-abcde',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            { secret: { name: 'sec', items: [{ key: 'password', path: 'pw' }] } },
          ],
        },
      },
    ]),
    {
      clusterCaPem: 'CA PEM',
      serviceAccountToken: async (r: object) => {
        requests.push(r);
        return 'jwt.token.here';
      },
    },
  );
  const info = vols.get('info')!.path;
  assert.equal(readFileSync(join(info, 'labels'), 'utf8'), 'app="x"');
  assert.equal(readFileSync(join(info, 'mem'), 'utf8'), '64');
  const sa = vols.get('kube-api-access-abcde')!.path;
  assert.equal(sa, join(podDir, 'volumes', 'kubernetes.io~projected', 'kube-api-access-abcde'));
  assert.equal(readFileSync(join(sa, 'token'), 'utf8'), 'jwt.token.here');
  assert.equal(readFileSync(join(sa, 'ca.crt'), 'utf8'), 'CA PEM');
  assert.equal(readFileSync(join(sa, 'namespace'), 'utf8'), 'ns');
  assert.equal(readFileSync(join(sa, 'pw'), 'utf8'), 'pw');
  assert.equal(statSync(join(sa, 'token')).mode & 0o777, 0o644);
  assert.deepEqual(requests, [{ audience: undefined, expirationSeconds: 3607 }]);
});

test('fsGroup: token 0640 and group-owned files', async () => {
  const vols = await prepare(
    pod([{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault' } }] } }], {
      securityContext: { fsGroup: 2000 },
    }),
    { serviceAccountToken: async () => 't' },
  );
  const st = statSync(join(vols.get('tok')!.path, 'token'));
  assert.equal(st.mode & 0o777, 0o640);
  assert.equal(st.gid, 2000);
});

test('emptyDir and hostPath volumes', async () => {
  const hostDir = join(podDir, 'host-data');
  const vols = await prepare(pod([{ name: 'scratch', emptyDir: {} }, { name: 'h', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } }]));
  const scratch = vols.get('scratch')!;
  assert.equal(scratch.path, join(podDir, 'volumes', 'kubernetes.io~empty-dir', 'scratch'));
  assert.equal(statSync(scratch.path).mode & 0o777, 0o777);
  assert.equal(vols.get('h')!.path, hostDir);
  assert.ok(statSync(hostDir).isDirectory());
});

test('emptyDir medium Memory is a tmpfs capped by sizeLimit and the pod limit', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  assert.equal(emptyDirMemorySize(pod([]), '1Mi', 8e9), 1048576);
  assert.equal(emptyDirMemorySize(pod([]), undefined, 8e9), 64 * 2 ** 20);
  assert.equal(emptyDirMemorySize({ ...pod([]), spec: { containers: [{ name: 'c' }] } }, undefined, 8e9), 8e9);
  const vols = await prepare(pod([{ name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }]));
  const path = vols.get('mem')!.path;
  assert.deepEqual(await mountsUnder(path), [path]);
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === path)!;
  assert.match(line, /tmpfs/);
  assert.match(line, /size=1024k/);
  // Idempotent: a second prepare does not stack another mount.
  await prepare(pod([{ name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }]));
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === path).length, 1);
  await cleanupPodVolumes(podDir);
  assert.deepEqual(await mountsUnder(podDir), []);
  assert.ok(!existsSync(join(podDir, 'volumes')));
});

test('container mounts: order, read-only, subPath through the atomic links, subPathExpr', async () => {
  const p = pod([
    { name: 'cfg', configMap: { name: 'cfg' } },
    { name: 'data', emptyDir: {} },
  ]);
  const vols = await prepare(p);
  const container = {
    name: 'c',
    volumeMounts: [
      { name: 'data', mountPath: '/var/data/' },
      { name: 'cfg', mountPath: '/etc/app/app.conf', subPath: 'app.conf' },
      { name: 'data', mountPath: '/var', readOnly: true },
      { name: 'data', mountPath: '/logs', subPathExpr: 'logs/$(POD_NAME)' },
    ],
  };
  const mounts = await containerMounts({ container, volumes: vols, env: [{ name: 'POD_NAME', value: 'p' }] });
  const cfgTarget = join(vols.get('cfg')!.path, readlinkSync(join(vols.get('cfg')!.path, '..data')), 'app.conf');
  const data = vols.get('data')!.path;
  assert.deepEqual(mounts, [
    { destination: '/var', source: data, type: 'bind', options: ['rbind', 'rprivate', 'ro'] },
    { destination: '/logs', source: join(data, 'logs', 'p'), type: 'bind', options: ['rbind', 'rprivate', 'rw'] },
    { destination: '/var/data', source: data, type: 'bind', options: ['rbind', 'rprivate', 'rw'] },
    { destination: '/etc/app/app.conf', source: cfgTarget, type: 'bind', options: ['rbind', 'rprivate', 'ro'] },
  ]);
  assert.ok(statSync(join(data, 'logs', 'p')).isDirectory());

  const bad = (vm: object) => () => planContainerMounts({ container: { name: 'c', volumeMounts: [vm] }, volumes: vols });
  assert.throws(bad({ name: 'nope', mountPath: '/x' }), (e: unknown) => e instanceof ContainerConfigError && /cannot find volume "nope"/.test(e.message));
  assert.throws(bad({ name: 'data', mountPath: '/x', subPath: '../../etc' }), /failed to prepare subPath/);
  await assert.rejects(
    containerMounts({ container: { name: 'c', volumeMounts: [{ name: 'cfg', mountPath: '/x', subPath: 'missing' }] }, volumes: vols }),
    /does not exist in volume "cfg"/,
  );
});
