import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imagesInUse } from './image-gc.ts';

test('images of app and init containers of every pod are in use', () => {
  const pods = [
    { metadata: { name: 'a' }, spec: { initContainers: [{ name: 'i', image: 'busybox' }], containers: [{ name: 'c', image: 'nginx:1.14.2' }] } },
    { metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'nginx:1.14.2' }, { name: 'd', image: 'nginx:1.14.1' }] } },
  ];
  assert.deepEqual([...imagesInUse(pods)].sort(), [
    'docker.io/library/busybox:latest',
    'docker.io/library/nginx:1.14.1',
    'docker.io/library/nginx:1.14.2',
  ]);
});
