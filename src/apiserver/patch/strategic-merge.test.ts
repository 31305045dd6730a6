import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import type { Schema } from '../schema/types.ts';
import { definitions, deploymentSchema, source } from './deployment-schema.fixture.ts';
import { GENERIC_INVALID_MESSAGE } from './patch-errors.ts';
import { strategicMergePatch } from './strategic-merge.ts';

// biome-ignore lint/suspicious/noExplicitAny: test documents are open JSON
type Doc = any;

const smp = (original: unknown, patch: unknown, schema: Schema | undefined = deploymentSchema): Doc =>
  strategicMergePatch(original, patch, schema, source);

/** A Deployment whose pod template holds the given containers. */
function deployment(containers: unknown[], extra: Doc = {}): Doc {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'web' } }, spec: { containers, ...extra } } },
  };
}

const containersOf = (d: Doc): Doc[] => d.spec.template.spec.containers;
const names = (list: Doc[]): unknown[] => list.map((c) => c.name);

function failsWith(code: number, message: RegExp | string, original: unknown, patch: unknown): void {
  assert.throws(
    () => smp(original, patch),
    (err: unknown) => {
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.code, code, err.message);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe('strategic merge patch: what kubectl apply sends', () => {
  test('second apply after adding a pod-template label', () => {
    const live = deployment([{ name: 'nginx', image: 'nginx:1.14', ports: [{ containerPort: 80 }] }]);
    live.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n' };
    const out = smp(live, {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n' } },
      spec: { template: { metadata: { labels: { version: 'v1' } } } },
    });
    assert.deepEqual(out.metadata.annotations, {
      'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n',
    });
    assert.deepEqual(out.spec.template.metadata.labels, { app: 'web', version: 'v1' });
    assert.deepEqual(containersOf(out), containersOf(live));
  });

  test('changing a container image keeps the fields the patch does not mention', () => {
    const live = deployment([
      { name: 'nginx', image: 'nginx:1.14', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } } },
    ]);
    const out = smp(live, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }],
            containers: [{ image: 'nginx:1.15', name: 'nginx' }],
          },
        },
      },
    });
    assert.deepEqual(containersOf(out), [
      { name: 'nginx', image: 'nginx:1.15', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } } },
    ]);
    assert.equal(
      Object.keys(out.spec.template.spec).some((k) => k.startsWith('$')),
      false,
    );
  });

  test('removing a container', () => {
    const live = deployment([
      { name: 'a', image: 'x' },
      { name: 'b', image: 'y' },
    ]);
    const out = smp(live, {
      spec: {
        template: {
          spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ $patch: 'delete', name: 'b' }] },
        },
      },
    });
    assert.deepEqual(containersOf(out), [{ name: 'a', image: 'x' }]);
  });

  test('adding a container in the middle follows $setElementOrder', () => {
    const live = deployment([{ name: 'a' }, { name: 'c' }]);
    const out = smp(live, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
            containers: [{ name: 'b', image: 'new' }],
          },
        },
      },
    });
    assert.deepEqual(containersOf(out), [{ name: 'a' }, { name: 'b', image: 'new' }, { name: 'c' }]);
  });

  test('$setElementOrder alone reorders', () => {
    const live = deployment([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    const out = smp(live, {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }, { name: 'b' }] } } },
    });
    assert.deepEqual(names(containersOf(out)), ['c', 'a', 'b']);
  });

  test('elements the order does not name keep their live place between named ones', () => {
    const live = deployment([{ name: 'a' }, { name: 'server-only' }, { name: 'b' }]);
    const out = smp(live, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }],
            containers: [{ name: 'b', image: 'x' }],
          },
        },
      },
    });
    assert.deepEqual(names(containersOf(out)), ['a', 'server-only', 'b']);
  });

  test('changing the deployment strategy clears the old rollingUpdate via $retainKeys', () => {
    const live = deployment([{ name: 'a' }]);
    live.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    const out = smp(live, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  });

  test('switching a volume source with $retainKeys inside a merge,retainKeys list', () => {
    const live = deployment([{ name: 'a' }], {
      volumes: [
        { name: 'conf', configMap: { name: 'c' } },
        { name: 'data', emptyDir: {} },
      ],
    });
    const out = smp(live, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/volumes': [{ name: 'conf' }, { name: 'data' }],
            volumes: [{ $retainKeys: ['name', 'secret'], name: 'conf', secret: { secretName: 's' } }],
          },
        },
      },
    });
    assert.deepEqual(out.spec.template.spec.volumes, [
      { name: 'conf', secret: { secretName: 's' } },
      { name: 'data', emptyDir: {} },
    ]);
  });

  test('removing a finalizer and adding one ($deleteFromPrimitiveList + $setElementOrder)', () => {
    const live = { metadata: { name: 'x', finalizers: ['a', 'b', 'c'] } };
    const out = smp(live, {
      metadata: {
        '$setElementOrder/finalizers': ['a', 'd', 'c'],
        '$deleteFromPrimitiveList/finalizers': ['b'],
        finalizers: ['d'],
      },
    });
    assert.deepEqual(out.metadata.finalizers, ['a', 'd', 'c']);
  });

  test('unnamed primitives keep their live place (Kubernetes fixture)', () => {
    const schema: Schema = {
      properties: { l: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' } },
    };
    const out = smp({ l: [1, 2, 7, 9, 8, 3, 4] }, { '$setElementOrder/l': [2, 1, 4, 3] }, schema);
    assert.deepEqual(out.l, [2, 1, 7, 9, 8, 4, 3]);
  });
});

describe('strategic merge patch: lists', () => {
  test('merge-key lists merge element by element; new elements come first without an order', () => {
    const live = deployment([
      {
        name: 'a',
        image: 'x',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
    ]);
    const out = smp(live, {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'a',
                env: [
                  { name: 'B', value: 'two' },
                  { name: 'C', value: '3' },
                ],
                ports: [{ containerPort: 8080 }],
              },
              { name: 'sidecar', image: 'envoy' },
            ],
          },
        },
      },
    });
    assert.deepEqual(containersOf(out), [
      {
        name: 'a',
        image: 'x',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: 'two' },
          { name: 'C', value: '3' },
        ],
        ports: [{ containerPort: 8080 }],
      },
      { name: 'sidecar', image: 'envoy' },
    ]);
    const prepended = smp(deployment([{ name: 'foo1' }, { name: 'foo2' }]), {
      spec: { template: { spec: { containers: [{ name: 'foo0' }] } } },
    });
    assert.deepEqual(names(containersOf(prepended)), ['foo0', 'foo1', 'foo2']);
  });

  test('ports merge by containerPort (a number)', () => {
    const live = deployment([{ name: 'a', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }] }]);
    const out = smp(live, {
      spec: { template: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } } },
    });
    assert.deepEqual(containersOf(out)[0].ports, [
      { containerPort: 80, name: 'http', protocol: 'TCP' },
      { containerPort: 443 },
    ]);
  });

  test('$patch: delete removes every element with that key; null inside an element deletes a field', () => {
    const live = deployment([
      {
        name: 'a',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
          { name: 'A', value: 'dup' },
        ],
      },
    ]);
    const out = smp(live, {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'a',
                env: [
                  { name: 'A', $patch: 'delete' },
                  { name: 'B', value: null },
                ],
              },
            ],
          },
        },
      },
    });
    assert.deepEqual(containersOf(out)[0].env, [{ name: 'B' }]);
  });

  test('$patch: replace on a list element replaces the whole list', () => {
    const live = deployment([{ name: 'a', image: 'x' }, { name: 'b' }]);
    const out = smp(live, {
      spec: { template: { spec: { containers: [{ name: 'c', image: 'z' }, { $patch: 'replace' }] } } },
    });
    assert.deepEqual(containersOf(out), [{ name: 'c', image: 'z' }]);
  });

  test('lists without a merge strategy are replaced', () => {
    const live = deployment([{ name: 'a', args: ['--x', '--y'] }], { tolerations: [{ key: 'k1' }, { key: 'k2' }] });
    const out = smp(live, {
      spec: { template: { spec: { tolerations: [{ key: 'k3' }], containers: [{ name: 'a', args: ['--z'] }] } } },
    });
    assert.deepEqual(out.spec.template.spec.tolerations, [{ key: 'k3' }]);
    assert.deepEqual(containersOf(out)[0].args, ['--z']);
  });

  test('primitive lists with merge strategy are unioned', () => {
    const out = smp({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { finalizers: ['b', 'c'] } });
    assert.deepEqual(out.metadata.finalizers.toSorted(), ['a', 'b', 'c']);
  });

  test('$deleteFromPrimitiveList drops values; deleting from an absent list is a no-op', () => {
    const out = smp(
      { metadata: { finalizers: ['a', 'b', 'a'] } },
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
    );
    assert.deepEqual(out.metadata.finalizers, ['b']);
    assert.deepEqual(smp({ metadata: {} }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }), {
      metadata: {},
    });
  });

  test('ownerReferences merge by uid', () => {
    const live = { metadata: { ownerReferences: [{ uid: '1', name: 'rs-1' }] } };
    const out = smp(live, {
      metadata: {
        ownerReferences: [
          { uid: '2', name: 'rs-2' },
          { uid: '1', kind: 'ReplicaSet' },
        ],
      },
    });
    assert.deepEqual(out.metadata.ownerReferences, [
      { uid: '2', name: 'rs-2' },
      { uid: '1', name: 'rs-1', kind: 'ReplicaSet' },
    ]);
  });

  test('a merge list created by the patch has its directives applied', () => {
    const live = deployment([{ name: 'a' }]);
    const out = smp(live, {
      spec: {
        template: {
          spec: {
            initContainers: [
              { name: 'init', image: 'busybox', env: [{ name: 'X', $patch: 'delete' }] },
              { name: 'gone', $patch: 'delete' },
            ],
          },
        },
      },
    });
    assert.deepEqual(out.spec.template.spec.initContainers, [{ name: 'init', image: 'busybox', env: [] }]);
  });
});

describe('strategic merge patch: maps', () => {
  test('maps merge recursively and null deletes', () => {
    const live = deployment([{ name: 'a' }], { nodeSelector: { disk: 'ssd', zone: 'a' } });
    const out = smp(live, {
      metadata: { labels: { app: null, tier: 'web' } },
      spec: { replicas: 3, template: { spec: { nodeSelector: { zone: 'b' } } } },
    });
    assert.deepEqual(out.metadata.labels, { tier: 'web' });
    assert.equal(out.spec.replicas, 3);
    assert.deepEqual(out.spec.template.spec.nodeSelector, { disk: 'ssd', zone: 'b' });
  });

  test('$patch: replace on a map replaces it; $patch: delete empties it', () => {
    const live = deployment([{ name: 'a' }], { nodeSelector: { disk: 'ssd', zone: 'a' } });
    const out = smp(live, {
      metadata: { labels: { $patch: 'replace', only: 'this' } },
      spec: { template: { spec: { nodeSelector: { $patch: 'delete' } } } },
    });
    assert.deepEqual(out.metadata.labels, { only: 'this' });
    assert.deepEqual(out.spec.template.spec.nodeSelector, {});
    assert.deepEqual(smp({ a: 1, b: { c: 2 } }, { $patch: 'replace', z: 1 }), { z: 1 });
  });

  test('without schema information the patch acts like a JSON merge patch', () => {
    const live = { spec: { list: [{ name: 'a', x: 1 }], m: { a: 1, b: 2 } }, status: { conditions: [{ type: 'A' }] } };
    const patch = {
      spec: { list: [{ name: 'a', y: 2 }], m: { a: null, c: 3 } },
      status: { conditions: [{ type: 'B' }] },
    };
    const expected = {
      spec: { list: [{ name: 'a', y: 2 }], m: { b: 2, c: 3 } },
      status: { conditions: [{ type: 'B' }] },
    };
    assert.deepEqual(smp(live, patch, undefined), expected);
    assert.deepEqual(smp(live, patch, deploymentSchema), expected);
  });

  test('a value of another type replaces the old one', () => {
    const out = smp(
      { spec: { replicas: 1, strategy: 'weird' } },
      { spec: { replicas: { a: 1 }, strategy: { type: 'Recreate' } } },
    );
    assert.deepEqual(out.spec, { replicas: { a: 1 }, strategy: { type: 'Recreate' } });
  });

  test('a null patch changes nothing; an empty patch changes nothing', () => {
    const live = deployment([{ name: 'a' }]);
    assert.deepEqual(smp(live, null), live);
    assert.deepEqual(smp(live, {}), live);
  });

  test('the patch strategy can sit on the $ref schema itself', () => {
    const schema: Schema = { properties: { s: { $ref: '#/definitions/Mergey' } } };
    definitions.Mergey = { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'merge' };
    try {
      assert.deepEqual(smp({ s: ['a'] }, { s: ['b'] }, schema).s, ['b', 'a']);
    } finally {
      delete definitions.Mergey;
    }
  });
});

describe('strategic merge patch: malformed patches', () => {
  const live = deployment([{ name: 'a' }, { name: 'b' }]);
  const inSpec = (spec: Doc) => ({ spec: { template: { spec } } });

  test('a non-object body is a 400 in Go decoder words', () => {
    failsWith(400, 'json: cannot unmarshal array into Go value of type map[string]interface {}', live, []);
    failsWith(400, /cannot unmarshal string/, live, 'x');
  });

  test('$retainKeys must be a list naming every field the patch sets', () => {
    failsWith(400, 'invalid patch format of retainKeys', live, { spec: { strategy: { $retainKeys: 'type' } } });
    failsWith(400, 'invalid patch format of retainKeys', live, {
      spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } },
    });
    const ok = smp(live, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } });
    assert.deepEqual(ok.spec.strategy, { type: 'Recreate' });
  });

  test('$deleteFromPrimitiveList must be "<prefix>/<field>" with a list', () => {
    failsWith(400, 'invalid patch format of primitive list', live, { metadata: { $deleteFromPrimitiveList: ['a'] } });
    failsWith(400, 'invalid patch format of primitive list', live, {
      metadata: { '$deleteFromPrimitiveListX/finalizers': ['a'] },
    });
    failsWith(400, 'invalid patch format of primitive list', live, {
      metadata: { '$deleteFromPrimitiveList/finalizers': 'a' },
    });
  });

  test('$setElementOrder must be "<prefix>/<field>" with a list naming elements by merge key', () => {
    failsWith(400, 'invalid patch format of setElementOrder list', live, inSpec({ $setElementOrder: [] }));
    failsWith(
      400,
      /expected a \[\]interface \{\}, but received a string/,
      live,
      inSpec({ '$setElementOrder/containers': 'a' }),
    );
    failsWith(
      400,
      /does not contain declared merge key: name/,
      live,
      inSpec({ '$setElementOrder/containers': [{ image: 'x' }] }),
    );
  });

  test('the patch list must follow $setElementOrder', () => {
    failsWith(
      400,
      /doesn't match \$setElementOrder list/,
      live,
      inSpec({
        '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }],
        containers: [{ name: 'b' }, { name: 'a' }],
      }),
    );
    failsWith(
      400,
      /doesn't match \$setElementOrder list/,
      live,
      inSpec({ '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'c' }] }),
    );
  });

  test('unknown or unsupported $patch directives', () => {
    failsWith(400, /unknown patch type: bogus in map/, live, { metadata: { labels: { $patch: 'bogus' } } });
    failsWith(400, /unknown patch type: merge in map/, live, { metadata: { $patch: 'merge' } });
    failsWith(
      400,
      'merging lists cannot yet be specified in the patch',
      live,
      inSpec({ containers: [{ $patch: 'merge' }] }),
    );
    failsWith(400, /unknown patch type: nope/, live, inSpec({ containers: [{ name: 'a', $patch: 'nope' }] }));
  });

  test('merge-list elements need the merge key', () => {
    failsWith(
      400,
      'map: map[image:x] does not contain declared merge key: name',
      live,
      inSpec({ containers: [{ image: 'x' }] }),
    );
    failsWith(400, /does not contain declared merge key: name/, live, inSpec({ containers: [{ $patch: 'delete' }] }));
  });

  test('mixed element types are a 400; lists of lists the generic 422', () => {
    failsWith(400, /list element types are not identical/, live, inSpec({ containers: ['a'] }));
    failsWith(422, GENERIC_INVALID_MESSAGE, { metadata: {} }, { metadata: { finalizers: [['a']] } });
  });
});

describe('strategic merge patch: safety', () => {
  test('never changes its inputs nor shares structure with them', () => {
    const live = deployment([{ name: 'a', env: [{ name: 'A', value: '1' }] }, { name: 'b' }]);
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
            containers: [
              { name: 'a', env: [{ name: 'B', value: '2' }] },
              { name: 'b', $patch: 'delete' },
            ],
          },
        },
      },
      metadata: { labels: { $patch: 'replace', x: 'y' } },
    };
    const snapshot = structuredClone({ live, patch });
    const out = smp(live, patch);
    assert.deepEqual({ live, patch }, snapshot);
    containersOf(out)[0].env.push({ name: 'Z' });
    out.metadata.labels.more = '1';
    out.spec.template.metadata.labels.more = '1';
    assert.deepEqual({ live, patch }, snapshot);
  });

  test('"__proto__" keys are data, including in directives', () => {
    const patch = JSON.parse(
      '{"__proto__":{"polluted":true},"metadata":{"labels":{"__proto__":"x","constructor":"y"},"$retainKeys":["labels","__proto__"]}}',
    );
    const out = smp({ metadata: { name: 'n', labels: {} } }, patch);
    assert.equal(({} as Doc).polluted, undefined);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: true });
    assert.equal(Object.getOwnPropertyDescriptor(out.metadata.labels, '__proto__')?.value, 'x');
    assert.equal(out.metadata.labels.constructor, 'y');
    assert.equal(out.metadata.name, undefined);
  });

  test('schema lookups ignore inherited names such as "constructor"', () => {
    const out = smp({ constructor: [1], toString: { a: 1 } }, { constructor: [2], toString: { b: 2 } });
    assert.deepEqual(out.constructor, [2]);
    assert.deepEqual(out.toString, { a: 1, b: 2 });
  });

  test('deep nesting is refused with a 400', () => {
    let deep: unknown = {};
    for (let i = 0; i < 50_000; i++) deep = { spec: deep };
    assert.throws(
      () => smp({}, deep),
      (err: unknown) => err instanceof ApiError && err.code === 400,
    );
  });

  test('large merge lists stay fast', () => {
    const n = 20_000;
    const live = deployment(Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'x' })));
    const order = Array.from({ length: n }, (_, i) => ({ name: `c${n - 1 - i}` }));
    const patchList = Array.from({ length: n }, (_, i) => ({ name: `c${n - 1 - i}`, image: 'y' }));
    const started = performance.now();
    const out = smp(live, {
      spec: { template: { spec: { '$setElementOrder/containers': order, containers: patchList } } },
    });
    assert.ok(performance.now() - started < 2000);
    assert.equal(containersOf(out)[0].name, `c${n - 1}`);
    assert.equal(containersOf(out)[n - 1].image, 'y');
  });
});

describe('strategic merge patch: cases from Kubernetes strategicpatch tests (live + patch → result)', () => {
  const mergingList: Schema = {
    type: 'array',
    items: { type: 'object' },
    'x-kubernetes-patch-merge-key': 'name',
    'x-kubernetes-patch-strategy': 'merge',
  };
  const mergingIntList: Schema = { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' };
  const item: Schema = {
    type: 'object',
    properties: {
      mergingList,
      mergingIntList,
      nonMergingIntList: { type: 'array', items: { type: 'integer' } },
      simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
      retainKeysMap: {
        type: 'object',
        'x-kubernetes-patch-strategy': 'retainKeys',
        properties: { name: { type: 'string' }, value: { type: 'string' }, mergingList },
      },
    },
  };
  const cases: [string, Doc, Doc, Doc][] = [
    [
      'delete items in lists of scalars',
      { mergingIntList: [1, 2, 3, 4] },
      { '$setElementOrder/mergingIntList': [1, 2], '$deleteFromPrimitiveList/mergingIntList': [3] },
      { mergingIntList: [1, 2, 4] },
    ],
    [
      'delete all duplicate items in lists of scalars',
      { mergingIntList: [1, 2, 3, 3, 4] },
      { '$setElementOrder/mergingIntList': [1, 2], '$deleteFromPrimitiveList/mergingIntList': [3] },
      { mergingIntList: [1, 2, 4] },
    ],
    [
      'add and delete items in lists of scalars',
      { mergingIntList: [1, 2, 3, 4] },
      { '$setElementOrder/mergingIntList': [1, 2, 4], '$deleteFromPrimitiveList/mergingIntList': [3] },
      { mergingIntList: [1, 2, 4] },
    ],
    [
      'merge lists of maps',
      {
        mergingList: [
          { name: '1', other: 'a' },
          { name: '2', value: '2', other: 'b' },
        ],
      },
      {
        '$setElementOrder/mergingList': [{ name: '4' }, { name: '1' }, { name: '2' }, { name: '3' }],
        mergingList: [
          { name: '4', value: '4' },
          { name: '3', value: '3' },
        ],
      },
      {
        mergingList: [
          { name: '4', value: '4' },
          { name: '1', other: 'a' },
          { name: '2', value: '2', other: 'b' },
          { name: '3', value: '3' },
        ],
      },
    ],
    [
      'merge lists of maps with conflict',
      {
        mergingList: [
          { name: '1', other: 'a' },
          { name: '2', value: '3', other: 'b' },
        ],
      },
      {
        '$setElementOrder/mergingList': [{ name: '1' }, { name: '2' }, { name: '3' }],
        mergingList: [
          { name: '2', value: '2' },
          { name: '3', value: '3' },
        ],
      },
      {
        mergingList: [
          { name: '1', other: 'a' },
          { name: '2', value: '2', other: 'b' },
          { name: '3', value: '3' },
        ],
      },
    ],
    [
      'nested patch merge with empty list',
      { name: 'hi', mergingList: [{ name: 'hello2' }] },
      {
        '$setElementOrder/mergingList': [{ name: 'hello' }, { name: 'doesntexist' }],
        mergingList: [{ name: 'hello' }],
      },
      { name: 'hi', mergingList: [{ name: 'hello' }, { name: 'hello2' }] },
    ],
    [
      '$setElementOrder names an item the list does not have',
      { mergingList: [{ name: '1' }, { name: '3' }] },
      {
        '$setElementOrder/mergingList': [{ name: '3' }, { name: '2' }, { name: '1' }],
        mergingList: [
          { name: '3', value: '3' },
          { name: '1', value: '1' },
        ],
      },
      {
        mergingList: [
          { name: '3', value: '3' },
          { name: '1', value: '1' },
        ],
      },
    ],
    [
      '$setElementOrder names an int the list does not have',
      { mergingIntList: [1, 3] },
      { '$setElementOrder/mergingIntList': [3, 2, 1] },
      { mergingIntList: [3, 1] },
    ],
    [
      'retainKeys map adds an item in a nested merging list',
      { retainKeysMap: { name: 'foo', mergingList: [{ name: 'a' }, { name: 'b' }, { name: 'x' }] } },
      {
        retainKeysMap: {
          $retainKeys: ['mergingList', 'name'],
          '$setElementOrder/mergingList': [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
          mergingList: [{ name: 'c' }],
        },
      },
      { retainKeysMap: { name: 'foo', mergingList: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'x' }] } },
    ],
    [
      'retainKeys map deletes a nested merging list',
      { retainKeysMap: { name: 'foo', mergingList: [{ name: 'a' }, { name: 'b' }] } },
      { retainKeysMap: { $retainKeys: ['name', 'value'], value: 'bar', mergingList: null } },
      { retainKeysMap: { name: 'foo', value: 'bar' } },
    ],
    [
      'retainKeys map deletes an item in a nested merging list',
      { retainKeysMap: { name: 'foo', mergingList: [{ name: 'a' }, { name: 'b' }, { name: 'x' }] } },
      {
        retainKeysMap: {
          $retainKeys: ['mergingList', 'name'],
          '$setElementOrder/mergingList': [{ name: 'a' }],
          mergingList: [{ name: 'b', $patch: 'delete' }],
        },
      },
      { retainKeysMap: { name: 'foo', mergingList: [{ name: 'a' }, { name: 'x' }] } },
    ],
    [
      'delete all maps from a merging list',
      {
        mergingList: [
          { name: '1', other: 'a' },
          { name: '2', other: 'b' },
        ],
      },
      {
        mergingList: [
          { name: '1', $patch: 'delete' },
          { name: '2', $patch: 'delete' },
        ],
      },
      { mergingList: [] },
    ],
    [
      'defined null values remove current fields',
      { name: 'a', other: 'a' },
      { name: '1', value: '1', other: null },
      { name: '1', value: '1' },
    ],
    [
      'replace list of scalars',
      { nonMergingIntList: [1, 4] },
      { nonMergingIntList: [2, 3] },
      { nonMergingIntList: [2, 3] },
    ],
    [
      'delete field from nested map',
      { simpleMap: { key1: '1', key2: '1', other: 'a' } },
      { simpleMap: { key2: null } },
      { simpleMap: { key1: '1', other: 'a' } },
    ],
  ];
  for (const [name, live, patch, expected] of cases) {
    test(name, () => assert.deepEqual(smp(live, patch, item), expected));
  }

  test('patch lists out of $setElementOrder order are rejected', () => {
    const wrongOrder = (live: Doc, patch: Doc) =>
      assert.throws(
        () => smp(live, patch, item),
        (err: unknown) => err instanceof ApiError && err.code === 400 && /doesn't match/.test(err.message),
      );
    wrongOrder(
      { mergingList: [{ name: '1' }, { name: '3' }, { name: '2' }] },
      {
        '$setElementOrder/mergingList': [{ name: '1' }, { name: '2' }, { name: '3' }],
        mergingList: [
          { name: '3', value: '3' },
          { name: '1', value: '1' },
        ],
      },
    );
    wrongOrder({ mergingIntList: [1, 3, 2] }, { '$setElementOrder/mergingIntList': [1, 2, 3], mergingIntList: [3, 1] });
  });
});
