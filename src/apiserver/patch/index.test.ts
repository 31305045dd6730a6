import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError, toStatus } from '../../api/errors.ts';
import { deploymentSchema, source } from './deployment-schema.fixture.ts';
import { applyPatch, PATCH_CONTENT_TYPES, type PatchKind, patchTypeOf, unsupportedPatchMediaType } from './index.ts';

// biome-ignore lint/suspicious/noExplicitAny: test documents are open JSON
type Doc = any;

const pod = (): Doc => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { app: 'web' }, finalizers: ['a'] },
  spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] },
});

describe('patchTypeOf', () => {
  test('maps the three content types, ignoring parameters and case', () => {
    assert.equal(patchTypeOf('application/json-patch+json'), 'json');
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8'), 'merge');
    assert.equal(patchTypeOf('Application/Strategic-Merge-Patch+JSON'), 'strategic');
    for (const kind of Object.keys(PATCH_CONTENT_TYPES) as PatchKind[]) {
      assert.equal(patchTypeOf(PATCH_CONTENT_TYPES[kind]), kind);
    }
  });

  test('anything else is unknown, including server-side apply', () => {
    assert.equal(patchTypeOf('application/json'), undefined);
    assert.equal(patchTypeOf('application/apply-patch+yaml'), undefined);
    assert.equal(patchTypeOf(''), undefined);
  });

  test('the 415 lists the accepted types like Kubernetes', () => {
    const status = toStatus(unsupportedPatchMediaType(Object.values(PATCH_CONTENT_TYPES)));
    assert.equal(status.code, 415);
    assert.equal(status.reason, 'UnsupportedMediaType');
    assert.equal(
      status.message,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
    );
  });
});

describe('applyPatch', () => {
  test('dispatches each kind', () => {
    const json = applyPatch('json', pod(), [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' }]);
    assert.equal((json as Doc).spec.containers[0].image, 'nginx:2');

    const merge = applyPatch('merge', pod(), { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }) as Doc;
    assert.deepEqual(merge.spec.containers, [{ name: 'c', image: 'nginx:2' }]);

    const podSchema = {
      properties: { metadata: { $ref: '#/definitions/ObjectMeta' }, spec: { $ref: '#/definitions/PodSpec' } },
    };
    const strategic = applyPatch(
      'strategic',
      pod(),
      { metadata: { finalizers: ['b'] }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } },
      { schema: podSchema, source },
    ) as Doc;
    assert.deepEqual(strategic.spec.containers, [{ name: 'c', image: 'nginx:2', ports: [{ containerPort: 80 }] }]);
    assert.deepEqual(strategic.metadata.finalizers, ['b', 'a']);
  });

  test('strategic without a schema behaves like a merge patch that understands directives', () => {
    const out = applyPatch('strategic', pod(), { metadata: { labels: { $patch: 'replace', b: 'c' } } }) as Doc;
    assert.deepEqual(out.metadata.labels, { b: 'c' });
  });

  test('a result that is not an object is Kubernetes\' 422 on field "patch"', () => {
    for (const [kind, body] of [
      ['merge', ['x']],
      ['json', [{ op: 'replace', path: '', value: [1] }]],
    ] as [PatchKind, unknown][]) {
      assert.throws(
        () => applyPatch(kind, pod(), body),
        (err: unknown) => {
          assert.ok(err instanceof ApiError);
          assert.equal(err.code, 422);
          assert.equal(err.reason, 'Invalid');
          assert.equal(err.details?.causes?.[0].field, 'patch');
          assert.match(err.message, /cannot unmarshal array into Go value/);
          return true;
        },
      );
    }
  });

  test('no kind mutates its inputs', () => {
    const bodies: [PatchKind, unknown][] = [
      [
        'json',
        [
          { op: 'add', path: '/metadata/labels/x', value: { deep: [1] } },
          { op: 'remove', path: '/spec' },
        ],
      ],
      ['merge', { metadata: { labels: { app: null, y: { deep: [1] } } }, spec: null }],
      [
        'strategic',
        {
          metadata: { '$deleteFromPrimitiveList/finalizers': ['a'], labels: { app: null } },
          spec: {
            containers: [
              { name: 'c', $patch: 'delete' },
              { name: 'd', ports: [{ containerPort: 1 }] },
            ],
          },
        },
      ],
    ];
    for (const [kind, body] of bodies) {
      const original = pod();
      const snapshot = structuredClone({ original, body });
      const out = applyPatch(kind, original, body, { schema: deploymentSchema, source }) as Doc;
      assert.deepEqual({ original, body }, snapshot, kind);
      assert.notEqual(out, original);
      out.metadata.name = 'changed';
      assert.equal(original.metadata.name, 'p');
    }
  });

  test('hostile bodies fail cleanly and pollute nothing', () => {
    const hostile = JSON.parse('{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}');
    for (const kind of ['merge', 'strategic'] as PatchKind[]) {
      const out = applyPatch(kind, pod(), hostile) as Doc;
      assert.equal(({} as Doc).isAdmin, undefined);
      assert.equal(Object.getPrototypeOf(out), Object.prototype);
    }
    applyPatch('json', pod(), [{ op: 'add', path: '/__proto__', value: { isAdmin: true } }]);
    assert.equal(({} as Doc).isAdmin, undefined);

    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    for (const kind of ['merge', 'strategic', 'json'] as PatchKind[]) {
      const body = kind === 'json' ? [{ op: 'add', path: '/x', value: deep }] : { x: deep };
      assert.throws(
        () => applyPatch(kind, pod(), body),
        (err: unknown) => err instanceof ApiError && err.code === 400,
        kind,
      );
    }
  });
});
