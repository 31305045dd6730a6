// apiextensions.k8s.io/v1 CustomResourceDefinitions: the CRD objects
// themselves, defaulted and validated by the rules in ../crd.
import { validateImmutable } from '../../api/field-errors.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { defaultCrd, validateCrd } from '../crd/index.ts';
import { ageColumn, col, copyJson, ensure, type Json, keepStatus } from './helpers.ts';
import type { ResourceDef } from './types.ts';

/** The full CRD rules (names, versions, structural schemas, columns) plus what may not change. */
function validate(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes = validateCrd(obj);
  if (old) {
    causes.push(...validateImmutable(obj.spec?.group, old.spec?.group, 'spec.group', obj.spec?.group ?? ''));
    causes.push(...validateImmutable(obj.spec?.scope, old.spec?.scope, 'spec.scope', obj.spec?.scope ?? ''));
  }
  return causes;
}

function recordStorageVersion(obj: KubeObject): void {
  const storage = (obj.spec?.versions ?? []).find((v: Json) => v.storage === true)?.name;
  const status: Json = ensure(obj, 'status');
  status.storedVersions ??= [];
  if (storage && !status.storedVersions.includes(storage)) status.storedVersions.push(storage);
}

export const customResourceDefinitions: ResourceDef = {
  group: 'apiextensions.k8s.io',
  kind: 'CustomResourceDefinition',
  listKind: 'CustomResourceDefinitionList',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { status: true },
  strategy: {
    defaults: (obj) => {
      defaultCrd(obj as never);
    },
    validate,
    prepareForCreate(obj) {
      obj.status = { acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
      recordStorageVersion(obj);
    },
    prepareForUpdate(obj, old) {
      keepStatus(obj, old);
      obj.status = copyJson(obj.status ?? {});
      recordStorageVersion(obj);
    },
    columns: [col('Created At', ageColumn().description, { type: 'date' })],
    cells: (obj) => [obj.metadata.creationTimestamp ?? ''],
  },
};
