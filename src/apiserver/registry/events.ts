// core/v1 events and events.k8s.io/v1 events. As in Kubernetes both are one
// stored resource (core events); events.k8s.io/v1 is a view converted from it.
import { fieldErrors } from '../../api/field-errors.ts';
import { timeSince } from '../../api/time.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { col, type Json } from './helpers.ts';
import type { ResourceDef, Strategy } from './types.ts';

/** events.k8s.io/v1 field name → core/v1 field name. */
const RENAMED: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['reportingController', 'reportingComponent'],
];

function rename(obj: KubeObject, pairs: [string, string][]): KubeObject {
  const out: KubeObject = { ...obj, metadata: obj.metadata };
  // Only fields present move, so converting an object already in the target shape changes nothing.
  for (const [from, to] of pairs) {
    if (!Object.hasOwn(obj, from)) continue;
    out[to] = obj[from];
    delete out[from];
  }
  return out;
}

export function eventsV1ToCore(obj: KubeObject): KubeObject {
  return { ...rename(obj, RENAMED), apiVersion: 'v1', kind: 'Event' };
}

export function coreToEventsV1(obj: KubeObject): KubeObject {
  return {
    ...rename(
      obj,
      RENAMED.map(([a, b]) => [b, a]),
    ),
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
  };
}

const isEventsV1 = (obj: KubeObject) => typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('events.k8s.io/');
const asCore = (obj: KubeObject) => (isEventsV1(obj) ? eventsV1ToCore(obj) : obj);

function eventSince(ts: string | undefined, now: Date): string {
  return timeSince(ts, now);
}

/** kubectl's printEvent, wide cells included; NAME is the last (wide) column. */
function eventCells(input: KubeObject, now: Date): unknown[] {
  const obj = asCore(input);
  const first = obj.firstTimestamp ? eventSince(obj.firstTimestamp, now) : eventSince(obj.eventTime, now);
  let last = obj.lastTimestamp ? eventSince(obj.lastTimestamp, now) : first;
  let count = obj.count ?? 0;
  if (obj.series) {
    last = eventSince(obj.series.lastObservedTime, now);
    count = obj.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  const inv: Json = obj.involvedObject ?? {};
  const kind = String(inv.kind ?? '').toLowerCase();
  const target = inv.name ? `${kind}/${inv.name}` : kind;
  const component = obj.source?.component || obj.reportingComponent || '';
  const host = obj.source?.host || obj.reportingInstance || '';
  return [
    last,
    obj.type ?? '',
    obj.reason ?? '',
    target,
    inv.fieldPath ?? '',
    host ? `${component}, ${host}` : component,
    String(obj.message ?? '').trim(),
    first,
    count,
    obj.metadata.name ?? '',
  ];
}

function eventFields(input: KubeObject): Record<string, string> {
  const obj = asCore(input);
  const inv: Json = obj.involvedObject ?? {};
  const fields: Record<string, string> = {
    'involvedObject.kind': inv.kind ?? '',
    'involvedObject.namespace': inv.namespace ?? '',
    'involvedObject.name': inv.name ?? '',
    'involvedObject.uid': inv.uid ?? '',
    'involvedObject.apiVersion': inv.apiVersion ?? '',
    'involvedObject.resourceVersion': inv.resourceVersion ?? '',
    'involvedObject.fieldPath': inv.fieldPath ?? '',
    reason: obj.reason ?? '',
    reportingComponent: obj.reportingComponent ?? '',
    source: obj.source?.component ?? '',
    type: obj.type ?? '',
  };
  // events.k8s.io spellings of the same fields.
  for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
    fields[`regarding.${k}`] = fields[`involvedObject.${k}`];
  }
  fields.reportingController = fields.reportingComponent;
  return fields;
}

function validateEvent(input: KubeObject): StatusCause[] {
  const obj = asCore(input);
  const causes: StatusCause[] = [];
  // Events about cluster-scoped objects live in "default"; others in their object's namespace.
  const ns: string = obj.involvedObject?.namespace ?? '';
  const eventNs = obj.metadata.namespace ?? '';
  const ok = ns === '' ? eventNs === '' || eventNs === 'default' : eventNs === ns;
  if (!ok) causes.push(fieldErrors.invalid('involvedObject.namespace', ns, 'does not match event.namespace'));
  if (obj.type && !['Normal', 'Warning'].includes(obj.type) && obj.eventTime) {
    causes.push(fieldErrors.notSupported('type', obj.type, ['Normal', 'Warning']));
  }
  return causes;
}

const eventColumns = [
  col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
  col('Reason', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
  col('Object', 'The object that this event is about.'),
  col('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', { wide: true }),
  col('Source', 'The component reporting this event. Should be a short machine understandable string.', { wide: true }),
  col('Message', 'A human-readable description of the status of this operation.'),
  col('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', { wide: true }),
  col('Count', 'The number of times this event has occurred.', { wide: true }),
  col('Name', 'Name must be unique within a namespace.', { wide: true, format: 'name' }),
];

const eventStrategy: Strategy = {
  validate: validateEvent,
  columns: eventColumns,
  includesNameColumn: true,
  cells: eventCells,
  fields: eventFields,
};

export const events: ResourceDef = {
  group: '',
  kind: 'Event',
  listKind: 'EventList',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: {},
  strategy: eventStrategy,
};

export const eventsV1: ResourceDef = {
  group: 'events.k8s.io',
  kind: 'Event',
  listKind: 'EventList',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  versions: ['v1'],
  storageVersion: 'v1',
  storage: { group: '', plural: 'events' },
  subresources: {},
  strategy: eventStrategy,
  convert: {
    toStorage: (obj) => eventsV1ToCore(obj),
    fromStorage: (obj) => coreToEventsV1(obj),
  },
};
