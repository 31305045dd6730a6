// CustomResourceDefinitions: validation and defaulting of CRDs, their status,
// and what the server needs to serve custom objects (ResourceDef, schema
// validation, pruning, defaulting, printer columns).
export { printerColumnsOf, tableColumns, cellsFor, humanAge, DEFAULT_COLUMNS } from './printer.ts';
export { resourceDefFromCrd, schemaOf } from './resource-def.ts';
export { applyDefaults, prune, pruneNulls, validateObject, validateValue } from './schema-validate.ts';
export { crdStatus } from './status.ts';
export type * from './types.ts';
export { defaultCrd, validateCrd } from './validate-crd.ts';
export { compareKubeAwareVersions, sortByVersionPriority } from './versions.ts';
export { evalJsonPath, parseJsonPath } from './jsonpath.ts';
