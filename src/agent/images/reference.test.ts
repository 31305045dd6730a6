import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isImageError } from './errors.ts';
import { familiarName, normalizeReference, parseReference } from './reference.ts';

describe('image references', () => {
  test('normalises as Docker and containerd do', () => {
    const cases: [string, string][] = [
      ['nginx:1.14.2', 'docker.io/library/nginx:1.14.2'],
      ['nginx', 'docker.io/library/nginx:latest'],
      ['library/nginx', 'docker.io/library/nginx:latest'],
      ['index.docker.io/nginx', 'docker.io/library/nginx:latest'],
      ['docker.io/nginx:1', 'docker.io/library/nginx:1'],
      ['user/app:v2', 'docker.io/user/app:v2'],
      ['localhost:5000/x', 'localhost:5000/x:latest'],
      ['localhost/x:1', 'localhost/x:1'],
      ['127.0.0.1:5000/a/b/c:1.0', '127.0.0.1:5000/a/b/c:1.0'],
      ['quay.io/coreos/etcd:v3.5', 'quay.io/coreos/etcd:v3.5'],
      [`nginx@sha256:${'a'.repeat(64)}`, `docker.io/library/nginx@sha256:${'a'.repeat(64)}`],
      [`nginx:1.14@sha256:${'b'.repeat(64)}`, `docker.io/library/nginx:1.14@sha256:${'b'.repeat(64)}`],
    ];
    for (const [input, want] of cases) assert.equal(normalizeReference(input), want, input);
  });

  test('splits domain, path, tag and digest', () => {
    assert.deepEqual(parseReference('localhost:5000/team/app:v1'), { domain: 'localhost:5000', path: 'team/app', tag: 'v1', digest: undefined });
    assert.equal(familiarName(parseReference('docker.io/library/nginx:1.14.2')), 'nginx:1.14.2');
    assert.equal(familiarName(parseReference('docker.io/user/app:1')), 'user/app:1');
  });

  test('rejects invalid references with InvalidImageName', () => {
    for (const bad of ['', 'Nginx', 'nginx:', 'nginx:bad tag', 'nginx@sha256:abc', ' nginx', 'a//b', `${'a'.repeat(64)}`, 'nginx:-x']) {
      assert.throws(() => parseReference(bad), (err) => isImageError(err, 'InvalidImageName'), bad);
    }
  });
});
