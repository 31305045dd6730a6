import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import {
  canonicalJson,
  fnv32,
  hashRevision,
  newRevision,
  ownedRevisions,
  planUpdateRevision,
  type Revision,
  revisionData,
  revisionsToPrune,
  safeEncode,
} from './revisions.ts';
import { REVISION_HASH_LABEL } from './workload-pods.ts';

const owner = (image: string): KubeObject => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'owner-uid', annotations: { team: 'a' } },
  spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
});
const stored = (image: string, revision: number): Revision => ({
  ...newRevision(owner(image), { kind: 'StatefulSet', revision, collisionCount: 0 }),
  metadata: { ...newRevision(owner(image), { kind: 'StatefulSet', revision, collisionCount: 0 }).metadata, creationTimestamp: `2026-01-01T00:00:0${revision}Z` },
});

describe('revision hashing', () => {
  test('FNV-1 32 matches Go hash/fnv New32 and the safe encoding uses Kubernetes alphabet', () => {
    assert.equal(fnv32(new TextEncoder().encode('')), 0x811c9dc5);
    assert.equal(fnv32(new TextEncoder().encode('a')), 0x050c5d7e);
    assert.equal(safeEncode('0123456789'), '456789bcdf');
  });

  test('canonical JSON sorts keys at every level, so equal templates hash equally', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
    const a = revisionData(owner('nginx:1'));
    const b = JSON.parse(JSON.stringify(revisionData(owner('nginx:1'))));
    assert.equal(hashRevision(a, 0), hashRevision(b, 0));
    assert.notEqual(hashRevision(a, 0), hashRevision(revisionData(owner('nginx:2')), 0));
    assert.notEqual(hashRevision(a, 0), hashRevision(a, 1), 'a collision count gives another name');
  });

  test('a revision snapshots the template as a replacing patch, named <owner>-<hash>, owned by the owner', () => {
    const r = newRevision(owner('nginx:1'), { kind: 'StatefulSet', revision: 3, collisionCount: 0 });
    assert.deepEqual(r.data, { spec: { template: { ...owner('nginx:1').spec.template, $patch: 'replace' } } });
    const hash = r.metadata.labels?.[REVISION_HASH_LABEL] ?? '';
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(r.metadata.name, `web-${hash}`);
    assert.equal(r.metadata.labels?.app, 'web');
    assert.deepEqual(r.metadata.annotations, { team: 'a' });
    assert.equal(r.revision, 3);
    assert.deepEqual(r.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'owner-uid', controller: true, blockOwnerDeletion: true }]);
  });
});

describe('revision history', () => {
  const history = [stored('v2', 2), stored('v1', 1), stored('v3', 3)];

  test('owned revisions sort by revision number and exclude others', () => {
    const foreign = { ...stored('v9', 9), metadata: { ...stored('v9', 9).metadata, ownerReferences: [] } };
    assert.deepEqual(ownedRevisions(owner('x'), [...history, foreign]).map((r) => r.revision), [1, 2, 3]);
  });

  test('same template as the newest: use it; as an older one: bump it; new template: create revision N+1', () => {
    const sorted = ownedRevisions(owner('x'), history);
    const use = planUpdateRevision(owner('v3'), sorted, { kind: 'StatefulSet', collisionCount: 0 });
    assert.equal(use.action, 'use');
    const bump = planUpdateRevision(owner('v1'), sorted, { kind: 'StatefulSet', collisionCount: 0 });
    assert.deepEqual([bump.action, bump.action === 'bump' && bump.to, bump.revision.revision], ['bump', 4, 1]);
    const create = planUpdateRevision(owner('v4'), sorted, { kind: 'StatefulSet', collisionCount: 0 });
    assert.deepEqual([create.action, create.revision.revision], ['create', 4]);
  });

  test('pruning keeps live revisions and the newest `limit` others', () => {
    const sorted = ownedRevisions(owner('x'), [...history, stored('v4', 4)]);
    const names = (rs: Revision[]) => rs.map((r) => r.revision);
    const live = new Set([sorted[3].metadata.name ?? '', sorted[0].metadata.name ?? '']);
    assert.deepEqual(names(revisionsToPrune(sorted, live, 1)), [2]);
    assert.deepEqual(names(revisionsToPrune(sorted, live, 0)), [2, 3]);
    assert.deepEqual(names(revisionsToPrune(sorted, live, 10)), []);
  });
});
