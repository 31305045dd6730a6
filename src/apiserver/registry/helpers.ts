// Shared pieces of the built-in kinds' strategies: table columns, cells and
// small accessors over open JSON objects.
import { formatLabelSelector } from '../../api/labels.ts';
import { timeSince } from '../../api/time.ts';
import type { KubeObject } from '../../api/types.ts';
import type { TableColumn } from './types.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON documents
export type Json = any;

/** Descriptions Kubernetes uses for the columns many kinds share. */
const AGE_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export function col(name: string, description: string, opts: { type?: TableColumn['type']; wide?: boolean; format?: string } = {}): TableColumn {
  const column: TableColumn = { name, type: opts.type ?? 'string', description, priority: opts.wide ? 1 : 0 };
  if (opts.format) column.format = opts.format;
  return column;
}

export const ageColumn = (): TableColumn => col('Age', AGE_DESCRIPTION);
export const containersColumn = (): TableColumn => col('Containers', 'Names of each container in the template.', { wide: true });
export const imagesColumn = (): TableColumn => col('Images', 'Images referenced by each container in the template.', { wide: true });
export const selectorColumn = (description: string): TableColumn => col('Selector', description, { wide: true });

export function age(obj: KubeObject, now: Date): string {
  return timeSince(obj.metadata?.creationTimestamp, now);
}

/** layoutContainerCells: names and images joined with commas. */
export function containerCells(containers: Json[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name ?? '').join(','), list.map((c) => c.image ?? '').join(',')];
}

/** metav1.FormatLabelSelector of a workload's spec.selector. */
export function selectorCell(selector: Json): string {
  return formatLabelSelector(selector);
}

export function int(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/** A fresh object for a nested path, creating parents as needed. */
export function ensure(obj: Json, ...path: string[]): Json {
  let cur = obj;
  for (const p of path) {
    if (cur[p] === undefined || cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p];
  }
  return cur;
}

export function setDefault(obj: Json, field: string, value: unknown): void {
  if (obj[field] === undefined || obj[field] === null) obj[field] = value;
}

export function copyJson<T>(value: T): T {
  return structuredClone(value);
}

/** Keeps `status` from the old object (main-resource updates must not change status). */
export function keepStatus(obj: KubeObject, old: KubeObject): void {
  if (old.status === undefined) delete obj.status;
  else obj.status = copyJson(old.status);
}
