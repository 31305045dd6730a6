import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContainerConfigError } from './types.ts';
import { parseGroup, parsePasswd, readUserDb, resolveUser } from './user.ts';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
# comment
nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin
app:x:1000:1000::/home/app:/bin/sh
broken line
`;
const GROUP = `root:x:0:
nginx:x:101:
app:x:1000:
audio:x:29:app,nginx
video:x:44:app
`;
const db = { passwd: parsePasswd(PASSWD), group: parseGroup(GROUP) };
const pod = (securityContext: object = {}) => ({ metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { securityContext } });

test('parses /etc/passwd and /etc/group, skipping junk', () => {
  assert.deepEqual(db.passwd.map((p) => [p.name, p.uid, p.gid]), [
    ['root', 0, 0],
    ['nginx', 101, 101],
    ['app', 1000, 1000],
  ]);
  assert.deepEqual(db.group.find((g) => g.name === 'audio')?.members, ['app', 'nginx']);
});

test('image USER forms', () => {
  const u = (imageUserSpec: string) => resolveUser({ pod: pod(), container: { name: 'c' }, imageUserSpec, db });
  assert.deepEqual(u(''), { uid: 0, gid: 0, additionalGids: [0] });
  assert.deepEqual(u('app'), { uid: 1000, gid: 1000, additionalGids: [1000, 29, 44] });
  assert.deepEqual(u('101'), { uid: 101, gid: 101, additionalGids: [101, 29] });
  assert.deepEqual(u('app:audio'), { uid: 1000, gid: 29, additionalGids: [29, 44] });
  assert.deepEqual(u('4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343] });
  assert.deepEqual(u('4242'), { uid: 4242, gid: 0, additionalGids: [0] });
  assert.throws(() => u('ghost'), /unable to find user ghost/);
  assert.throws(() => u('app:ghosts'), /unable to find group ghosts/);
});

test('securityContext: container over pod, runAsGroup, supplementalGroups, fsGroup, Strict policy', () => {
  const p = pod({ runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [5000], fsGroup: 2000 });
  assert.deepEqual(resolveUser({ pod: p, container: { name: 'c' }, imageUserSpec: 'nginx', db }), {
    uid: 1000,
    gid: 3000,
    additionalGids: [3000, 29, 44, 5000, 2000],
  });
  assert.deepEqual(resolveUser({ pod: p, container: { name: 'c', securityContext: { runAsUser: 101 } }, db }).uid, 101);
  const strict = pod({ runAsUser: 1000, supplementalGroupsPolicy: 'Strict' });
  assert.deepEqual(resolveUser({ pod: strict, container: { name: 'c' }, db }).additionalGids, [1000]);
  // runAsGroup alone keeps the image's user.
  assert.deepEqual(resolveUser({ pod: pod({ runAsGroup: 7 }), container: { name: 'c' }, imageUserSpec: 'app', db }).uid, 1000);
});

test('runAsNonRoot is verified as the kubelet does', () => {
  const check = (sc: object, imageUserSpec: string) => () => resolveUser({ pod: pod(sc), container: { name: 'c' }, imageUserSpec, db });
  assert.throws(check({ runAsNonRoot: true }, ''), (e: unknown) => e instanceof ContainerConfigError && /image will run as root/.test(e.message));
  assert.throws(check({ runAsNonRoot: true }, 'app'), /non-numeric user \(app\), cannot verify user is non-root/);
  assert.throws(check({ runAsNonRoot: true, runAsUser: 0 }, '1000'), /runAsUser breaks non-root policy/);
  assert.equal(check({ runAsNonRoot: true }, '1000')().uid, 1000);
  assert.equal(check({ runAsNonRoot: true, runAsUser: 5 }, 'app')().uid, 5);
});

test('readUserDb reads the rootfs files and tolerates their absence', async () => {
  const root = mkdtempSync(join(tmpdir(), 'podspec-user-'));
  try {
    assert.deepEqual(await readUserDb(root), { passwd: [], group: [] });
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'passwd'), PASSWD);
    writeFileSync(join(root, 'etc', 'group'), GROUP);
    const read = await readUserDb(root);
    assert.equal(read.passwd.length, 3);
    assert.equal(read.group.length, 5);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
