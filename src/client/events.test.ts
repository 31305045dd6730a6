import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEventRecorder, eventName } from './events.ts';
import { fakeClient } from './fake-client.test-helpers.ts';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', uid: 'u-pod', resourceVersion: '42' } };

describe('event recorder (as client-go records them)', () => {
  test('names are <object>.<unix nanoseconds in hex>', () => {
    const now = new Date('2025-01-02T03:04:05.678Z');
    const name = eventName('web-1', now);
    const [object, hex] = name.split('.');
    assert.equal(object, 'web-1');
    const nanos = BigInt(`0x${hex}`);
    assert.equal(nanos / 1_000_000n, BigInt(now.getTime()), 'the hex part is the time in nanoseconds');
    assert.notEqual(eventName('web-1', now), eventName('web-1', now), 'two events in one millisecond get different names');
  });

  test('fills involvedObject, source, reporting fields, count and timestamps', async () => {
    const client = fakeClient();
    const recorder = createEventRecorder({ client, component: 'skiff-controller-manager', host: 'node-1' });
    await recorder.withSource({ component: 'taint-eviction-controller' }).record(pod, 'Normal', 'TaintManagerEviction', 'Marking for deletion Pod shop/web-1');
    const [event] = [...client.objects.values()];
    assert.match(event.metadata.name ?? '', /^web-1\.[0-9a-f]{16}$/);
    assert.equal(event.metadata.namespace, 'shop');
    assert.deepEqual(event.involvedObject, { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'shop', uid: 'u-pod', resourceVersion: '42' });
    assert.deepEqual(event.source, { component: 'taint-eviction-controller' }, 'controllers report without a host, as in Kubernetes');
    assert.equal(event.reportingComponent, 'taint-eviction-controller');
    assert.equal(event.reportingInstance, '');
    assert.equal(event.count, 1);
    assert.equal(event.type, 'Normal');
    assert.match(event.firstTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'whole seconds, as metav1.Time');
    assert.equal(event.lastTimestamp, event.firstTimestamp);
  });

  test('a burst of the same event makes one Event with its count; other sources get their own', async () => {
    const client = fakeClient();
    const recorder = createEventRecorder({ client, component: 'a-controller' });
    await Promise.all([1, 2, 3].map(() => recorder.record(pod, 'Warning', 'FailedCreate', 'quota')));
    await recorder.withSource({ component: 'b-controller' }).record(pod, 'Warning', 'FailedCreate', 'quota');
    const events = [...client.objects.values()];
    assert.equal(events.length, 2);
    assert.equal(events.find((e) => e.source.component === 'a-controller')?.count, 3);
    assert.equal(events.find((e) => e.source.component === 'b-controller')?.count, 1);
  });
});
