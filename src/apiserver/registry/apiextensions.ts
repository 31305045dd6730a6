// apiextensions.k8s.io/v1 CustomResourceDefinitions: the CRD objects
// themselves, with basic validation (group, names, versions, one storage version).
import { child, fieldErrors, index, validateImmutable } from '../../api/field-errors.ts';
import { isDNS1035Label, isDNS1123Subdomain } from '../../api/names.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { ageColumn, col, copyJson, ensure, type Json, keepStatus, setDefault } from './helpers.ts';
import type { ResourceDef } from './types.ts';

const SCOPES = ['Cluster', 'Namespaced'];
const VERSIONS_LITERAL = { goLiteral: '[]apiextensions.CustomResourceDefinitionVersion{...}' };

function defaultCrd(obj: KubeObject): void {
  const spec: Json = ensure(obj, 'spec');
  const names: Json = ensure(spec, 'names');
  if (names.kind) {
    setDefault(names, 'singular', String(names.kind).toLowerCase());
    setDefault(names, 'listKind', `${names.kind}List`);
  }
  const conversion: Json = ensure(spec, 'conversion');
  setDefault(conversion, 'strategy', 'None');
  const service = conversion.webhook?.clientConfig?.service;
  if (service) setDefault(service, 'port', 443);
}

function validateNames(names: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const dns1035 = (field: string, value: string | undefined, prefix = '') => {
    const fp = child(path, field);
    if (!value) {
      causes.push(fieldErrors.required(fp));
      return;
    }
    const errs = isDNS1035Label(prefix ? value.toLowerCase() : value);
    if (errs.length) causes.push(fieldErrors.invalid(fp, value, `${prefix}${errs.join(',')}`));
  };
  dns1035('plural', names?.plural);
  if (names?.singular) dns1035('singular', names.singular);
  dns1035('kind', names?.kind, 'may have mixed case, but should otherwise match: ');
  dns1035('listKind', names?.listKind, 'may have mixed case, but should otherwise match: ');
  if (names?.kind && names.kind === names.listKind) {
    causes.push(fieldErrors.invalid(child(path, 'listKind'), names.listKind, 'kind and listKind may not be the same'));
  }
  (names?.shortNames ?? []).forEach((s: string, i: number) => {
    for (const msg of isDNS1035Label(s)) causes.push(fieldErrors.invalid(index(child(path, 'shortNames'), i), s, msg));
  });
  (names?.categories ?? []).forEach((s: string, i: number) => {
    for (const msg of isDNS1035Label(s)) causes.push(fieldErrors.invalid(index(child(path, 'categories'), i), s, msg));
  });
  return causes;
}

function validateCrd(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes: StatusCause[] = [];
  const group: string = spec.group ?? '';
  const plural: string = spec.names?.plural ?? '';
  if (obj.metadata.name !== `${plural}.${group}`) {
    causes.push(fieldErrors.invalid('metadata.name', obj.metadata.name ?? '', 'must be spec.names.plural+"."+spec.group'));
  }
  if (!group) causes.push(fieldErrors.required('spec.group'));
  else {
    for (const msg of isDNS1123Subdomain(group)) causes.push(fieldErrors.invalid('spec.group', group, msg));
    if (!group.includes('.')) causes.push(fieldErrors.invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) causes.push(fieldErrors.required('spec.scope'));
  else if (!SCOPES.includes(spec.scope)) causes.push(fieldErrors.notSupported('spec.scope', spec.scope, SCOPES));
  causes.push(...validateNames(spec.names, 'spec.names'));

  const versions: Json[] = spec.versions ?? [];
  if (versions.length === 0) causes.push(fieldErrors.required('spec.versions'));
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const np = child(index('spec.versions', i), 'name');
    if (!v.name) causes.push(fieldErrors.required(np));
    else {
      for (const msg of isDNS1035Label(v.name)) causes.push(fieldErrors.invalid(np, v.name, msg));
      if (seen.has(v.name)) causes.push(fieldErrors.duplicate(np, v.name));
      seen.add(v.name);
    }
  });
  if (versions.length > 0) {
    if (versions.filter((v) => v.storage === true).length !== 1) {
      causes.push(fieldErrors.invalid('spec.versions', VERSIONS_LITERAL, 'must have exactly one version marked as storage version'));
    }
    if (!versions.some((v) => v.served === true)) {
      causes.push(fieldErrors.invalid('spec.versions', VERSIONS_LITERAL, 'must have at least one version marked as served'));
    }
  }
  if (old) {
    causes.push(...validateImmutable(spec.group, old.spec?.group, 'spec.group', group));
    causes.push(...validateImmutable(spec.scope, old.spec?.scope, 'spec.scope', spec.scope ?? ''));
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
    defaults: defaultCrd,
    validate: validateCrd,
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
