// Event recorder: tells users what a controller did or why it is stuck, as
// core/v1 Events that `kubectl describe` and `kubectl get events` show.
// Shaped as client-go's recorder makes them: named `<object>.<hex unix nanos>`,
// source and reportingComponent/Instance from the recording component.
// Repeats of the same (source, object, type, reason, message) bump count and
// lastTimestamp on one Event instead of creating new ones.
import { isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Logger } from '../lib/log.ts';
import type { Client, ResourceRef } from './client.ts';

export const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events', namespaced: true };
/** Remembered (object, reason, message) combinations; older ones are dropped first (client-go keeps 4096). */
const DEDUPE_CACHE_SIZE = 4096;

export type EventType = 'Normal' | 'Warning';

/** Who reports: Kubernetes' controllers use their own name ("replicaset-controller") and no host. */
export type EventSource = { component: string; host?: string };

export type EventRecorder = {
  /** Records an Event about obj; never throws (failures are logged). */
  record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
  /** A recorder for another component (sharing this one's de-duplication), e.g. one per controller. */
  withSource(source: EventSource): EventRecorder;
};

type Seen = { namespace: string; name: string; count: number };

function involvedObject(obj: KubeObject) {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    namespace: obj.metadata.namespace,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
  };
}

/** metav1.Time: RFC 3339 in whole seconds. */
const seconds = (date: Date) => date.toISOString().replace(/\.\d+Z$/, 'Z');

/** client-go names events `<name>.<unix nanoseconds in hex>`; the sub-millisecond part is random to keep names unique. */
export function eventName(objectName: string, now: Date): string {
  const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
  return `${objectName}.${nanos.toString(16)}`;
}

export function createEventRecorder(options: { client: Client; component: string; host?: string; log?: Logger }): EventRecorder {
  const { client, log } = options;
  const seen = new Map<string, Seen>();
  // Records of one key run one after another, so a burst of repeats makes one Event, not several.
  const pending = new Map<string, Promise<void>>();

  const create = async (source: EventSource, obj: KubeObject, type: EventType, reason: string, message: string, now: Date) => {
    // Cluster-scoped objects' events go to "default", as Kubernetes does.
    const namespace = obj.metadata.namespace || 'default';
    const name = eventName(obj.metadata.name ?? '', now);
    await client.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involvedObject(obj),
      type,
      reason,
      message,
      source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
      count: 1,
      firstTimestamp: seconds(now),
      lastTimestamp: seconds(now),
    });
    return { namespace, name, count: 1 };
  };

  const recordOnce = async (key: string, source: EventSource, obj: KubeObject, type: EventType, reason: string, message: string) => {
    const now = new Date();
    try {
      const before = seen.get(key);
      let next: Seen;
      if (before) {
        try {
          const count = before.count + 1;
          await client.patch(EVENTS, before.name, { count, lastTimestamp: seconds(now) }, { type: 'merge', namespace: before.namespace });
          next = { ...before, count };
        } catch (err) {
          if (!isNotFound(err)) throw err;
          next = await create(source, obj, type, reason, message, now);
        }
      } else {
        next = await create(source, obj, type, reason, message, now);
      }
      seen.delete(key);
      seen.set(key, next);
      if (seen.size > DEDUPE_CACHE_SIZE) seen.delete(seen.keys().next().value as string);
    } catch (err) {
      log?.debug('could not record event', { reason, err: (err as Error).message });
    }
  };

  const recorderFor = (source: EventSource): EventRecorder => ({
    record(obj, type, reason, message) {
      const object = obj.metadata.uid ?? `${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
      const key = [source.component, source.host ?? '', object, type, reason, message].join('\u0000');
      const run = (pending.get(key) ?? Promise.resolve()).then(() => recordOnce(key, source, obj, type, reason, message));
      pending.set(key, run);
      void run.then(() => {
        if (pending.get(key) === run) pending.delete(key);
      });
      return run;
    },
    withSource: (next) => recorderFor(next),
  });

  return recorderFor({ component: options.component, host: options.host });
}
