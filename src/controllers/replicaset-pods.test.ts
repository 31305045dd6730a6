import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import {
  BURST_REPLICAS,
  compareForDeletion,
  podFromTemplate,
  podsToDelete,
  relatedPods,
  replicaSetStatus,
  scaleDecision,
  slowStartBatch,
  slowStartBatches,
  statusChanged,
} from './replicaset-pods.ts';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

type PodOptions = {
  node?: string;
  phase?: string;
  readySecondsAgo?: number;
  createdSecondsAgo?: number;
  restarts?: number;
  cost?: number;
  owner?: string;
  labels?: Record<string, string>;
  deleting?: boolean;
};

function pod(name: string, o: PodOptions = {}): KubeObject {
  const conditions =
    o.readySecondsAgo !== undefined
      ? [{ type: 'Ready', status: 'True', lastTransitionTime: ago(o.readySecondsAgo) }]
      : [];
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: ago(o.createdSecondsAgo ?? 1000),
      labels: o.labels ?? { app: 'web' },
      ...(o.cost !== undefined
        ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(o.cost) } }
        : {}),
      ...(o.owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: o.owner, controller: true },
            ],
          }
        : {}),
      ...(o.deleting ? { deletionTimestamp: ago(0) } : {}),
    },
    spec: { ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions,
      containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }],
    },
  };
}

const names = (pods: KubeObject[]) => pods.map((p) => p.metadata.name);
/** Which of two pods goes first, ranks equal. */
const first = (a: KubeObject, b: KubeObject) =>
  compareForDeletion(a, 0, b, 0, NOW) < 0 ? a.metadata.name : b.metadata.name;

describe('which pods a scale-down removes', () => {
  test('unassigned before assigned', () => {
    assert.equal(first(pod('bound', { node: 'n1', phase: 'Pending' }), pod('free', { phase: 'Pending' })), 'free');
  });

  test('Pending before Unknown before Running', () => {
    const running = pod('running', { node: 'n1', readySecondsAgo: 100 });
    const unknown = pod('unknown', { node: 'n1', phase: 'Unknown' });
    const pending = pod('pending', { node: 'n1', phase: 'Pending' });
    assert.deepEqual(names(podsToDelete([running, unknown, pending], [], 2, NOW)), ['pending', 'unknown']);
  });

  test('not ready before ready', () => {
    assert.equal(first(pod('ready', { node: 'n1', readySecondsAgo: 5 }), pod('notready', { node: 'n1' })), 'notready');
  });

  test('lower pod-deletion-cost first', () => {
    assert.equal(first(pod('cheap', { node: 'n1', cost: -5 }), pod('dear', { node: 'n1', cost: 10 })), 'cheap');
    assert.equal(first(pod('dear', { node: 'n1', cost: 10 }), pod('plain', { node: 'n1' })), 'plain');
  });

  test('pods on nodes crowded with related pods first', () => {
    const a1 = pod('a1', { node: 'a', readySecondsAgo: 100 });
    const a2 = pod('a2', { node: 'a', readySecondsAgo: 100 });
    const b1 = pod('b1', { node: 'b', readySecondsAgo: 100 });
    const sibling = pod('sibling', { node: 'b', readySecondsAgo: 100 });
    const sibling2 = pod('sibling2', { node: 'b', readySecondsAgo: 100 });
    // Node b holds 3 related pods, node a 2: b1 goes first though it is no different otherwise.
    assert.deepEqual(names(podsToDelete([a1, a2, b1], [a1, a2, b1, sibling, sibling2], 1, NOW)), ['b1']);
    // Terminating related pods do not crowd a node.
    const gone = [pod('x', { node: 'b', deleting: true }), pod('y', { node: 'b', deleting: true })];
    assert.deepEqual(names(podsToDelete([a1, b1], [a1, a2, b1, ...gone], 1, NOW)), ['a1']);
  });

  test('more recently ready first, by logarithmic age bucket', () => {
    assert.equal(
      first(pod('old', { node: 'n1', readySecondsAgo: 3600 }), pod('fresh', { node: 'n1', readySecondsAgo: 10 })),
      'fresh',
    );
  });

  test('more restarts first', () => {
    assert.equal(first(pod('calm', { node: 'n1', restarts: 0 }), pod('crashy', { node: 'n1', restarts: 7 })), 'crashy');
  });

  test('newer first, and same-bucket ages fall back to uid order', () => {
    assert.equal(
      first(pod('old', { node: 'n1', createdSecondsAgo: 86_400 }), pod('new', { node: 'n1', createdSecondsAgo: 30 })),
      'new',
    );
    // 1000 s and 1001 s ago share a log2 bucket: order is by uid, whichever comes first.
    assert.equal(
      first(pod('zz', { node: 'n1', createdSecondsAgo: 1000 }), pod('aa', { node: 'n1', createdSecondsAgo: 1001 })),
      'aa',
    );
  });

  test('a full ranking, and count >= pods returns them all', () => {
    const pods = [
      pod('ready-old', { node: 'n1', readySecondsAgo: 10_000 }),
      pod('ready-new', { node: 'n2', readySecondsAgo: 5 }),
      pod('notready', { node: 'n3' }),
      pod('pending', { node: 'n4', phase: 'Pending' }),
      pod('unscheduled', { phase: 'Pending' }),
    ];
    assert.deepEqual(names(podsToDelete(pods, pods, 4, NOW)), ['unscheduled', 'pending', 'notready', 'ready-new']);
    assert.equal(podsToDelete(pods, pods, 9, NOW).length, 5);
  });
});

describe('scale decisions and slow start', () => {
  test('creates or deletes the difference, at most a burst', () => {
    assert.deepEqual(scaleDecision(3, 1), { create: 2, delete: 0 });
    assert.deepEqual(scaleDecision(1, 4), { create: 0, delete: 3 });
    assert.deepEqual(scaleDecision(2, 2), { create: 0, delete: 0 });
    assert.deepEqual(scaleDecision(1000, 0), { create: BURST_REPLICAS, delete: 0 });
    assert.deepEqual(scaleDecision(0, 2000), { create: 0, delete: BURST_REPLICAS });
  });

  test('batches double from one', () => {
    assert.deepEqual(slowStartBatches(0), []);
    assert.deepEqual(slowStartBatches(1), [1]);
    assert.deepEqual(slowStartBatches(10), [1, 2, 4, 3]);
    assert.deepEqual(slowStartBatches(500), [1, 2, 4, 8, 16, 32, 64, 128, 245]);
  });

  test('stops after the first batch with a failure', async () => {
    let calls = 0;
    const result = await slowStartBatch(20, 1, async () => {
      calls++;
      if (calls === 5) throw new Error('quota exceeded');
    });
    // Batches 1, 2, 4: the third batch (calls 4–7) holds the failure, so nothing after it runs.
    assert.equal(calls, 7);
    assert.equal(result.succeeded, 6);
    assert.match(String(result.error), /quota exceeded/);
    const ok = await slowStartBatch(5, 1, async () => {});
    assert.deepEqual(ok, { succeeded: 5, error: undefined });
  });
});

const rs = (extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: 3 },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web', tier: 'fe' }, annotations: { note: 'x' } },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    },
    ...extra,
  },
});

describe('pods from the template', () => {
  test('generateName, labels, annotations, spec and the controller reference', () => {
    const ref = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'web',
      uid: 'rs-uid',
      controller: true,
      blockOwnerDeletion: true,
    };
    const owner = rs();
    const p = podFromTemplate(owner, ref);
    assert.equal(p.metadata.generateName, 'web-');
    assert.equal(p.metadata.name, undefined);
    assert.equal(p.metadata.namespace, 'default');
    assert.deepEqual(p.metadata.labels, { app: 'web', tier: 'fe' });
    assert.deepEqual(p.metadata.annotations, { note: 'x' });
    assert.deepEqual(p.metadata.ownerReferences, [ref]);
    assert.deepEqual(p.spec, owner.spec.template.spec);
    p.spec.containers[0].image = 'changed';
    assert.equal(owner.spec.template.spec.containers[0].image, 'nginx', 'the template is copied, not shared');
  });

  test('related pods are those of every ReplicaSet under the same controller', () => {
    const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'd-uid', controller: true };
    const mine = { metadata: { name: 'a', uid: 'a', ownerReferences: [deploy] } };
    const sibling = { metadata: { name: 'b', uid: 'b', ownerReferences: [deploy] } };
    const stranger = { metadata: { name: 'c', uid: 'c' } };
    const pods = [pod('p1', { owner: 'a' }), pod('p2', { owner: 'b' }), pod('p3', { owner: 'c' }), pod('p4')];
    assert.deepEqual(names(relatedPods(mine, [mine, sibling, stranger], pods)), ['p1', 'p2']);
    assert.deepEqual(names(relatedPods(stranger, [mine, sibling, stranger], pods)), ['p3']);
  });
});

describe('status', () => {
  test('counts replicas, fully labelled, ready and available pods', () => {
    const owner = rs({ minReadySeconds: 30 });
    const full = { app: 'web', tier: 'fe' };
    const pods = [
      pod('a', { labels: full, readySecondsAgo: 60 }), // available
      pod('b', { labels: full, readySecondsAgo: 10 }), // ready, not yet available
      pod('c', { labels: { app: 'web' } }), // matches the selector, not the template
    ];
    assert.deepEqual(replicaSetStatus(owner, pods, { nowMs: NOW }), {
      replicas: 3,
      fullyLabeledReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 1,
      observedGeneration: 3,
    });
    assert.deepEqual(replicaSetStatus(owner, [], { nowMs: NOW }), { replicas: 0, observedGeneration: 3 });
  });

  test('ReplicaFailure is set on failure, kept while failing, and cleared once fixed', () => {
    const failing = replicaSetStatus(rs(), [], {
      nowMs: NOW,
      failure: { reason: 'FailedCreate', message: 'pods "web-" is forbidden: exceeded quota' },
    });
    assert.deepEqual(failing.conditions, [
      {
        type: 'ReplicaFailure',
        status: 'True',
        lastTransitionTime: '2025-01-01T12:00:00Z',
        reason: 'FailedCreate',
        message: 'pods "web-" is forbidden: exceeded quota',
      },
    ]);
    const withFailure = { ...rs(), status: failing };
    const later = replicaSetStatus(withFailure, [], {
      nowMs: NOW + 60_000,
      failure: { reason: 'FailedCreate', message: 'again' },
    });
    assert.deepEqual(later.conditions, failing.conditions, 'the first failure stays as it was');
    assert.equal(statusChanged(withFailure, later), false);
    const fixed = replicaSetStatus(withFailure, [], { nowMs: NOW });
    assert.equal(fixed.conditions, undefined);
    assert.equal(statusChanged(withFailure, fixed), true);
  });

  test('a status is written only when something changed', () => {
    const owner = { ...rs(), status: { replicas: 2, readyReplicas: 1, observedGeneration: 3 } };
    assert.equal(statusChanged(owner, { replicas: 2, readyReplicas: 1, observedGeneration: 3 }), false);
    assert.equal(statusChanged(owner, { replicas: 2, readyReplicas: 2, observedGeneration: 3 }), true);
    assert.equal(statusChanged(owner, { replicas: 2, readyReplicas: 1, observedGeneration: 4 }), true);
    assert.equal(statusChanged({ ...rs(), status: undefined }, { replicas: 0 }), false);
  });
});
