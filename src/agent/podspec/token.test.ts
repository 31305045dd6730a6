import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import type { Client } from '../../client/client.ts';
import { podTokenSource, tokenRequestFor } from './token.ts';

const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { serviceAccountName: 'robot' } };

test('tokenRequestFor binds the token to the pod', () => {
  assert.deepEqual(tokenRequestFor(pod, { audience: 'vault', expirationSeconds: 600 }).spec, {
    audiences: ['vault'],
    expirationSeconds: 600,
    boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u1' },
  });
});

test('podTokenSource asks the API and caches until 80% of the lifetime', async () => {
  let clock = 1_000_000;
  const calls: { path: string; body: KubeObject }[] = [];
  const client = {
    request: async (o: { path: string; body: KubeObject }) => {
      calls.push(o);
      return { status: { token: `t${calls.length}`, expirationTimestamp: new Date(clock + 1000_000).toISOString() } };
    },
  } as unknown as Client;
  const source = podTokenSource(client, pod, () => clock);
  assert.equal(await source({ expirationSeconds: 1000 }), 't1');
  assert.equal(calls[0].path, '/api/v1/namespaces/ns/serviceaccounts/robot/token');
  clock += 700_000;
  assert.equal(await source({ expirationSeconds: 1000 }), 't1');
  assert.equal(await source({ audience: 'x', expirationSeconds: 1000 }), 't2');
  clock += 200_000;
  assert.equal(await source({ expirationSeconds: 1000 }), 't3');
});
