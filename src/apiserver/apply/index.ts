// Server-side apply and managedFields: pure functions over plain objects.
export { conflictError, conflictMessage, describeManager } from './conflicts.ts';
export {
  difference,
  emptyFieldSet,
  type FieldPath,
  type FieldSet,
  type FieldsV1,
  fieldSetOf,
  fromFieldsV1,
  hasPath,
  intersection,
  isEmptyFieldSet,
  type PathElement,
  pathsOf,
  pathToString,
  recursiveDifference,
  toFieldSet,
  toFieldsV1,
  union,
} from './fieldset.ts';
export {
  decodeManagedFields,
  encodeManagedFields,
  MAX_UPDATE_MANAGERS,
  type Manager,
  managerFromRequest,
  type UpdateManagedFieldsOptions,
  updateManagedFields,
} from './managed-fields.ts';
export { LAST_APPLIED_ANNOTATION, type ServerSideApplyOptions, serverSideApply } from './server-side-apply.ts';
export { compare, merge } from './typed.ts';
export { type ResourceApplyOptions, resourceContext, trackManagedFields } from './resource.ts';
