// Label and field selectors of LIST, WATCH and DELETE collection as one filter.
import { matchesFields, parseFieldSelector, checkSupportedFields } from '../../api/fields.ts';
import { matchesSelector, parseLabelSelector } from '../../api/labels.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { Filter } from './list.ts';

/** The field values every object can be selected by, plus its kind's own. */
export function fieldValues(def: ResourceDef, obj: KubeObject): Record<string, string> {
  const values: Record<string, string> = { 'metadata.name': obj.metadata.name ?? '' };
  if (def.namespaced) values['metadata.namespace'] = obj.metadata.namespace ?? '';
  return { ...values, ...def.strategy.fields?.(obj) };
}

/** Field names a kind supports, found by asking its strategy about an empty object. */
function supportedFields(def: ResourceDef): string[] {
  const empty: KubeObject = { metadata: {}, spec: {}, status: {} };
  let own: string[] = [];
  try {
    own = Object.keys(def.strategy.fields?.(empty) ?? {});
  } catch {
    own = [];
  }
  return ['metadata.name', 'metadata.namespace', ...own];
}

export function buildFilter(def: ResourceDef, labelSelector: string, fieldSelector: string): Filter | undefined {
  const labels = labelSelector.trim() ? parseLabelSelector(labelSelector) : undefined;
  const fields = fieldSelector.trim() ? parseFieldSelector(fieldSelector) : undefined;
  if (fields) checkSupportedFields(fields, supportedFields(def));
  if (!labels && !fields) return undefined;
  return (obj) =>
    (!labels || matchesSelector(labels, obj.metadata.labels)) && (!fields || matchesFields(fields, fieldValues(def, obj)));
}
