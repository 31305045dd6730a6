// Turns a CustomResourceDefinition into the ResourceDef the server serves:
// names, served versions in Kubernetes' priority order, subresources, and a
// strategy that prunes, defaults and validates with each version's schema.
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { isObject } from '../../api/types.ts';
import type { ResourceDef, Strategy } from '../registry/types.ts';
import type { Schema } from '../schema/types.ts';
import { fieldError as fe } from './field-errors.ts';
import { cellsFor, printerColumnsOf, tableColumns } from './printer.ts';
import { applyDefaults, prune, pruneNulls, validateObject } from './schema-validate.ts';
import type { CrdScale, CrdVersion, CustomResourceDefinition } from './types.ts';
import { defaultCrd } from './validate-crd.ts';
import { sortByVersionPriority } from './versions.ts';

const MAX_INT32 = 2147483647;

const versionsOf = (crd: CustomResourceDefinition): CrdVersion[] =>
  Array.isArray(crd.spec?.versions) ? crd.spec.versions.filter(isObject) : [];

/** The openAPIV3Schema of one version, if the CRD has that version and it has a schema. */
export function schemaOf(crd: KubeObject, version: string): Schema | undefined {
  const schema = versionsOf(crd as CustomResourceDefinition).find((v) => v.name === version)?.schema?.openAPIV3Schema;
  return isObject(schema) ? schema : undefined;
}

function scaleOf(v: CrdVersion | undefined): CrdScale | undefined {
  const scale = v?.subresources?.scale;
  return isObject(scale) && scale.specReplicasPath && scale.statusReplicasPath ? scale : undefined;
}

/** Reads an integer at a ".a.b" path; Kubernetes' NestedInt64 errors when the value is not one. */
function replicasCause(obj: KubeObject, jsonPath: string): StatusCause[] {
  let v: unknown = obj;
  for (const key of jsonPath.replace(/^\./, '').split('.')) {
    if (!isObject(v) || !(key in v)) return [];
    v = v[key];
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    const type =
      v === null ? '<nil>' : Array.isArray(v) ? '[]interface {}' : typeof v === 'number' ? 'float64' : typeof v;
    return [
      fe.invalid(
        jsonPath,
        0,
        `${jsonPath} accessor error: ${JSON.stringify(v)} is of the type ${type}, expected int64`,
      ),
    ];
  }
  if (v < 0) return [fe.invalid(jsonPath, v, 'should be a non-negative integer')];
  if (v > MAX_INT32) return [fe.invalid(jsonPath, v, `should be less than or equal to ${MAX_INT32}`)];
  return [];
}

function strategyFor(crd: CustomResourceDefinition, storage: CrdVersion | undefined): Strategy {
  const statusOn = (v: CrdVersion | undefined) => isObject(v?.subresources?.status);
  const versionNamed = (name: string) => versionsOf(crd).find((v) => v.name === name);
  const cols = printerColumnsOf(crd, storage?.name ?? '');
  return {
    defaults(obj, version) {
      const schema = schemaOf(crd, version);
      prune(obj, schema);
      pruneNulls(obj, schema);
      applyDefaults(obj, schema);
    },
    validateIn(obj, version) {
      const v = versionNamed(version);
      const causes = validateObject(obj, schemaOf(crd, version));
      const scale = scaleOf(v);
      if (scale)
        causes.push(...replicasCause(obj, scale.specReplicasPath), ...replicasCause(obj, scale.statusReplicasPath));
      return causes;
    },
    prepareForCreate(obj) {
      if (statusOn(storage)) delete obj.status;
    },
    prepareForUpdate(obj, old) {
      if (!statusOn(storage)) return;
      if ('status' in old) obj.status = old.status;
      else delete obj.status;
    },
    columns: tableColumns(cols),
    cells: cellsFor(cols),
  };
}

/**
 * The ResourceDef for a CRD. Only served versions are listed, highest
 * priority first (v1 > v1beta2 > v1beta1 > v1alpha1), which makes the first
 * one kubectl's preferred version. Versions differ only in apiVersion
 * (conversion strategy None), so there is no convert.
 */
export function resourceDefFromCrd(input: KubeObject): ResourceDef {
  const crd = defaultCrd(structuredClone(input) as CustomResourceDefinition);
  const spec = crd.spec ?? ({} as CustomResourceDefinition['spec']);
  const names = spec.names ?? ({} as CustomResourceDefinition['spec']['names']);
  const all = versionsOf(crd);
  const storage = all.find((v) => v.storage);
  const served = sortByVersionPriority(all.filter((v) => v.served).map((v) => v.name));
  const scale = scaleOf(storage);
  return {
    group: spec.group,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? String(names.kind ?? '').toLowerCase(),
    namespaced: spec.scope !== 'Cluster',
    ...(names.shortNames?.length ? { shortNames: [...names.shortNames] } : {}),
    ...(names.categories?.length ? { categories: [...names.categories] } : {}),
    versions: served,
    storageVersion: storage?.name ?? served[0] ?? '',
    subresources: {
      ...(isObject(storage?.subresources?.status) ? { status: true } : {}),
      ...(scale
        ? {
            scale: {
              specReplicasPath: scale.specReplicasPath,
              statusReplicasPath: scale.statusReplicasPath,
              ...(scale.labelSelectorPath ? { labelSelectorPath: scale.labelSelectorPath } : {}),
            },
          }
        : {}),
    },
    strategy: strategyFor(crd, storage),
    custom: true,
  };
}
