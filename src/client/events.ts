// Event recorder: tells users what a controller did or why it is stuck, as
// core/v1 Events that `kubectl describe` and `kubectl get events` show.
// Repeats of the same (object, type, reason, message) bump count and
// lastTimestamp on one Event instead of creating new ones.
import { isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Logger } from '../lib/log.ts';
import type { Client, ResourceRef } from './client.ts';

export const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events', namespaced: true };
/** Remembered (object, reason, message) combinations; older ones are dropped first (client-go keeps 4096). */
const DEDUPE_CACHE_SIZE = 4096;

export type EventType = 'Normal' | 'Warning';

export type EventRecorder = {
  /** Records an Event about obj; never throws (failures are logged). */
  record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
};

type Seen = { namespace: string; name: string; count: number; firstTimestamp: string };

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

export function createEventRecorder(options: { client: Client; component: string; host?: string; log?: Logger }): EventRecorder {
  const { client, component, host, log } = options;
  const seen = new Map<string, Seen>();

  const create = async (obj: KubeObject, type: EventType, reason: string, message: string, now: string): Promise<Seen> => {
    // Cluster-scoped objects' events go to "default", as Kubernetes does.
    const namespace = obj.metadata.namespace || 'default';
    const name = `${obj.metadata.name}.${(Date.now() * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
    await client.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: involvedObject(obj),
      type,
      reason,
      message,
      source: { component, ...(host ? { host } : {}) },
      reportingComponent: component,
      reportingInstance: host ?? '',
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
    });
    return { namespace, name, count: 1, firstTimestamp: now };
  };

  return {
    async record(obj, type, reason, message) {
      const key = `${obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`}\u0000${type}\u0000${reason}\u0000${message}`;
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      try {
        const before = seen.get(key);
        let next: Seen;
        if (before) {
          try {
            const count = before.count + 1;
            await client.patch(EVENTS, before.name, { count, lastTimestamp: now }, { type: 'merge', namespace: before.namespace });
            next = { ...before, count };
          } catch (err) {
            if (!isNotFound(err)) throw err;
            next = await create(obj, type, reason, message, now);
          }
        } else {
          next = await create(obj, type, reason, message, now);
        }
        seen.delete(key);
        seen.set(key, next);
        if (seen.size > DEDUPE_CACHE_SIZE) seen.delete(seen.keys().next().value as string);
      } catch (err) {
        log?.debug('could not record event', { reason, err: (err as Error).message });
      }
    },
  };
}
