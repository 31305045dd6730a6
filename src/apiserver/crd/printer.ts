// additionalPrinterColumns → Table columns and cells, matching the
// apiextensions table convertor: one value per column (the first JSONPath
// result), string columns print it like kubectl's JSONPath (objects and
// arrays as JSON), date columns become a human age ("5m", "3d4h").
import { humanDuration } from '../../api/time.ts';
import type { KubeObject } from '../../api/types.ts';
import type { TableColumn } from '../registry/types.ts';
import { goJson } from './field-errors.ts';
import { evalJsonPath, parseJsonPath } from './jsonpath.ts';
import { goFloat } from './schema-validate.ts';
import type { CrdPrinterColumn, CustomResourceDefinition } from './types.ts';

const CREATION_TIMESTAMP_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** Served when a version lists no columns (Kubernetes' serveDefaultColumnsIfEmpty). */
export const DEFAULT_COLUMNS: CrdPrinterColumn[] = [
  { name: 'Age', type: 'date', description: CREATION_TIMESTAMP_DOC, jsonPath: '.metadata.creationTimestamp' },
];

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The printer columns of one version, or the default AGE column. */
export function printerColumnsOf(crd: CustomResourceDefinition, version: string): CrdPrinterColumn[] {
  const v = crd.spec?.versions?.find((x) => x.name === version);
  const cols = v?.additionalPrinterColumns;
  return Array.isArray(cols) && cols.length > 0 ? cols : DEFAULT_COLUMNS;
}

export function tableColumns(cols: CrdPrinterColumn[]): TableColumn[] {
  return cols.map((c) => ({
    name: c.name,
    type: c.type as TableColumn['type'],
    ...(c.format ? { format: c.format } : {}),
    description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
    priority: c.priority ?? 0,
  }));
}

/** Builds a cell function for the columns; unparsable paths always give null cells. */
export function cellsFor(cols: CrdPrinterColumn[]): (obj: KubeObject, now: Date) => unknown[] {
  const parsed = cols.map((c) => {
    try {
      return parseJsonPath(c.jsonPath);
    } catch {
      return undefined;
    }
  });
  return (obj, now) =>
    cols.map((c, i) => {
      const steps = parsed[i];
      if (!steps) return null;
      const results = evalJsonPath(steps, obj);
      return results.length === 0 ? null : cellValue(c.type, results[0], now);
    });
}

function cellValue(type: string, value: unknown, now: Date): unknown {
  if (type === 'string') return printed(value);
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? dateCell(value, now) : null;
    default:
      return null;
  }
}

/** kubectl JSONPath printing of one value. */
function printed(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : goFloat(value);
  if (typeof value === 'boolean') return String(value);
  return goJson(value);
}

function dateCell(value: string, now: Date): string {
  if (value === '' || value === 'null') return '<unknown>';
  if (!RFC3339.test(value)) return '<invalid>';
  const t = Date.parse(value);
  return Number.isNaN(t) ? '<invalid>' : humanAge(new Date(t), now);
}

/** kubectl's age of a time: the shared HumanDuration of src/api/time.ts. */
export function humanAge(since: Date, now: Date): string {
  return humanDuration(now.getTime() - since.getTime());
}
