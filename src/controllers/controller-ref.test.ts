import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/index.ts';
import { refs } from '../client/index.ts';
import {
  adoptPatch,
  claimDecision,
  claimObjects,
  controllerOf,
  newControllerRef,
  recheckOwner,
  releasePatch,
} from './controller-ref.ts';

const TYPE = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
const owner = (extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'web', namespace: 'default', uid: 'rs-1', ...extra },
});
const ref = (uid: string, controller = true) => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  name: uid,
  uid,
  controller,
});
const pod = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels, ...extra },
});
const matches = (p: KubeObject) => p.metadata.labels?.app === 'web';

describe('claim decisions', () => {
  const ctx = { owner: owner(), matches };

  test('own matching pods are kept; own non-matching ones released', () => {
    assert.equal(claimDecision(pod('a', { app: 'web' }, { ownerReferences: [ref('rs-1')] }), ctx), 'claim');
    assert.equal(claimDecision(pod('b', { app: 'db' }, { ownerReferences: [ref('rs-1')] }), ctx), 'release');
  });

  test('pods controlled by another controller are never touched', () => {
    assert.equal(claimDecision(pod('a', { app: 'web' }, { ownerReferences: [ref('rs-2')] }), ctx), 'ignore');
    assert.equal(claimDecision(pod('b', { app: 'db' }, { ownerReferences: [ref('rs-2')] }), ctx), 'ignore');
  });

  test('matching orphans are adopted, also when they have non-controller owners', () => {
    assert.equal(claimDecision(pod('a', { app: 'web' }), ctx), 'adopt');
    assert.equal(claimDecision(pod('b', { app: 'web' }, { ownerReferences: [ref('cm', false)] }), ctx), 'adopt');
    assert.equal(claimDecision(pod('c', { app: 'db' }), ctx), 'ignore');
  });

  test('no adoption of terminating pods, pods of other namespaces, or by a terminating owner', () => {
    assert.equal(claimDecision(pod('a', { app: 'web' }, { deletionTimestamp: 'now' }), ctx), 'ignore');
    assert.equal(claimDecision(pod('b', { app: 'web' }, { namespace: 'other' }), ctx), 'ignore');
    const deleting = { owner: owner({ deletionTimestamp: 'now' }), matches };
    assert.equal(claimDecision(pod('c', { app: 'web' }), deleting), 'ignore');
    // A terminating owner also keeps (does not release) its non-matching pods.
    assert.equal(claimDecision(pod('d', { app: 'db' }, { ownerReferences: [ref('rs-1')] }), deleting), 'ignore');
    assert.equal(claimDecision(pod('e', { app: 'web' }, { ownerReferences: [ref('rs-1')] }), deleting), 'claim');
  });

  test('controller references and patches', () => {
    const r = newControllerRef(owner(), TYPE);
    assert.deepEqual(r, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'web',
      uid: 'rs-1',
      controller: true,
      blockOwnerDeletion: true,
    });
    assert.equal(controllerOf(pod('a', {}, { ownerReferences: [ref('x', false), ref('y')] }))?.uid, 'y');
    assert.equal(controllerOf(pod('a', {}, { ownerReferences: [ref('x', false)] })), undefined);
    assert.deepEqual(adoptPatch(r, 'p'), { metadata: { ownerReferences: [r], uid: 'p' } });
    assert.deepEqual(releasePatch('rs-1', 'p'), {
      metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-1' }], uid: 'p' },
    });
  });
});

/** A client that records patches and answers with canned results. */
function patchingClient(answer: (name: string) => KubeObject | ApiError, live?: KubeObject) {
  const patches: { name: string; body: unknown; type: string }[] = [];
  const client = {
    patch: async (_ref: unknown, name: string, body: unknown, o: { type: string }) => {
      patches.push({ name, body, type: o.type });
      const result = answer(name);
      if (result instanceof ApiError) throw result;
      return result;
    },
    get: async () => {
      if (!live) throw new ApiError(404, 'NotFound', 'gone');
      return live;
    },
  } as unknown as Client;
  return { client, patches };
}

describe('claiming with the API', () => {
  const r = newControllerRef(owner(), TYPE);

  test('adopts orphans, releases strays, keeps its own, leaves others alone', async () => {
    const mine = pod('mine', { app: 'web' }, { ownerReferences: [r] });
    const orphan = pod('orphan', { app: 'web' });
    const stray = pod('stray', { app: 'db' }, { ownerReferences: [r] });
    const foreign = pod('foreign', { app: 'web' }, { ownerReferences: [ref('rs-2')] });
    const { client, patches } = patchingClient((name) => ({
      ...pod(name, { app: 'web' }),
      metadata: { ...pod(name, { app: 'web' }).metadata, ownerReferences: [r] },
    }));
    let rechecks = 0;
    const claimed = await claimObjects({
      client,
      resource: refs.pods,
      owner: owner(),
      controllerRef: r,
      matches,
      objects: [mine, orphan, stray, foreign, pod('orphan2', { app: 'web' })],
      canAdopt: async () => {
        rechecks++;
      },
    });
    assert.deepEqual(
      claimed.map((p) => p.metadata.name),
      ['mine', 'orphan', 'orphan2'],
    );
    assert.deepEqual(
      patches.map((p) => [p.name, p.type]),
      [
        ['orphan', 'strategic'],
        ['stray', 'strategic'],
        ['orphan2', 'strategic'],
      ],
    );
    assert.deepEqual(patches[0].body, adoptPatch(r, 'uid-orphan'));
    assert.deepEqual(patches[1].body, releasePatch('rs-1', 'uid-stray'));
    assert.ok(rechecks >= 1);
  });

  test('a failed owner recheck stops adoption and is reported', async () => {
    const { client, patches } = patchingClient(() => pod('x', {}));
    await assert.rejects(
      claimObjects({
        client,
        resource: refs.pods,
        owner: owner(),
        controllerRef: r,
        matches,
        objects: [pod('orphan', { app: 'web' })],
        canAdopt: async () => {
          throw new Error('owner is being deleted');
        },
      }),
      /owner is being deleted/,
    );
    assert.equal(patches.length, 0);
  });

  test('pods gone meanwhile are skipped; other errors are thrown after trying every pod', async () => {
    const { client, patches } = patchingClient((name) =>
      name === 'gone' ? new ApiError(404, 'NotFound', 'gone') : new ApiError(500, 'InternalError', 'boom'),
    );
    await assert.rejects(
      claimObjects({
        client,
        resource: refs.pods,
        owner: owner(),
        controllerRef: r,
        matches,
        objects: [pod('gone', { app: 'web' }), pod('broken', { app: 'web' }), pod('later', { app: 'web' })],
        canAdopt: async () => {},
      }),
      /boom/,
    );
    assert.equal(patches.length, 3);
  });

  test('recheckOwner reads the owner live once and refuses a replaced or deleting owner', async () => {
    let gets = 0;
    const counting = (live: KubeObject) =>
      ({
        get: async () => {
          gets++;
          return live;
        },
      }) as unknown as Client;
    const same = recheckOwner(counting(owner()), refs.replicasets, owner());
    await same();
    await same();
    assert.equal(gets, 1);
    await assert.rejects(recheckOwner(counting(owner({ uid: 'rs-other' })), refs.replicasets, owner())(), /is gone/);
    await assert.rejects(
      recheckOwner(counting(owner({ deletionTimestamp: '2025-01-01T00:00:00Z' })), refs.replicasets, owner())(),
      /just been deleted/,
    );
    await assert.rejects(recheckOwner(patchingClient(() => pod('x', {})).client, refs.replicasets, owner())(), /gone/);
  });
});
