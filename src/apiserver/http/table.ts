// Server-side printing: the Table kubectl prints verbatim.
import type { KubeObject, ListMeta } from '../../api/types.ts';
import type { ResourceDef, TableColumn } from '../registry/types.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const NAME_COLUMN: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

export function partialMetadata(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(
  def: ResourceDef,
  objects: KubeObject[],
  listMeta: ListMeta,
  options: { includeObject: IncludeObject; now: Date; withColumns?: boolean },
): KubeObject {
  const rows = objects.map((obj) => {
    const cells = def.strategy.cells(obj, options.now);
    const row: Record<string, unknown> = { cells: def.strategy.includesNameColumn ? cells : [obj.metadata.name, ...cells] };
    if (options.includeObject === 'Object') row.object = obj;
    else if (options.includeObject === 'Metadata') row.object = partialMetadata(obj);
    return row;
  });
  const table: KubeObject = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions:
      options.withColumns === false
        ? []
        : def.strategy.includesNameColumn
          ? def.strategy.columns
          : [NAME_COLUMN, ...def.strategy.columns],
    rows,
  };
  return table;
}
