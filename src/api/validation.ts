// Object metadata validation with Kubernetes' messages (apimachinery
// ValidateObjectMeta). Name syntax checks live in names.ts, causes in
// field-errors.ts; both are re-exported here as the validation surface.
import { child, fieldErrors, validateImmutable } from './field-errors.ts';
import { validateAnnotations, validateLabels } from './labels.ts';
import { isDNS1123Label, isQualifiedName, type NameRule, nameRules } from './names.ts';
import type { ObjectMeta, OwnerReference, StatusCause } from './types.ts';

export * from './field-errors.ts';
export * from './names.ts';

export type ObjectMetaOptions = {
  namespaced: boolean;
  /** How metadata.name must look; defaults to a DNS-1123 subdomain. */
  nameRule?: NameRule;
};

const FINALIZER_ORPHAN = 'orphan';
const FINALIZER_FOREGROUND = 'foregroundDeletion';

export function validateOwnerReferences(refs: OwnerReference[] | undefined, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  let controller: string | undefined;
  for (const ref of refs ?? []) {
    const slash = (ref.apiVersion ?? '').indexOf('/');
    const version = slash < 0 ? ref.apiVersion ?? '' : ref.apiVersion.slice(slash + 1);
    if (!version) causes.push(fieldErrors.invalid(child(path, 'apiVersion'), ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) causes.push(fieldErrors.invalid(child(path, 'kind'), ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) causes.push(fieldErrors.invalid(child(path, 'name'), ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) causes.push(fieldErrors.invalid(child(path, 'uid'), ref.uid ?? '', 'uid must not be empty'));
    if (ref.controller) {
      if (controller !== undefined) {
        causes.push(
          fieldErrors.invalid(
            path,
            { goLiteral: `[]v1.OwnerReference{...}` },
            `Only one reference can have Controller set to true. Found "true" in references for ${controller} and ${ref.kind}/${ref.name}`,
          ),
        );
      } else {
        controller = `${ref.kind}/${ref.name}`;
      }
    }
  }
  return causes;
}

export function validateFinalizers(finalizers: string[] | undefined, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const f of finalizers ?? []) {
    for (const msg of isQualifiedName(f)) causes.push(fieldErrors.invalid(path, f, msg));
  }
  if (finalizers?.includes(FINALIZER_ORPHAN) && finalizers.includes(FINALIZER_FOREGROUND)) {
    causes.push(
      fieldErrors.invalid(
        path,
        { goLiteral: `[]string{${finalizers.map((f) => JSON.stringify(f)).join(', ')}}` },
        `finalizer ${FINALIZER_ORPHAN} and ${FINALIZER_FOREGROUND} cannot be both set`,
      ),
    );
  }
  return causes;
}

/** ValidateObjectMeta: name (or generateName), namespace scope, labels, annotations, owners, finalizers. */
export function validateObjectMeta(meta: ObjectMeta | undefined, opts: ObjectMetaOptions, path = 'metadata'): StatusCause[] {
  const m = meta ?? {};
  const rule = opts.nameRule ?? nameRules.dns1123Subdomain;
  const causes: StatusCause[] = [];
  if (m.generateName) {
    for (const msg of rule(m.generateName, true)) causes.push(fieldErrors.invalid(child(path, 'generateName'), m.generateName, msg));
  }
  if (!m.name) {
    causes.push(fieldErrors.required(child(path, 'name'), 'name or generateName is required'));
  } else {
    for (const msg of rule(m.name, false)) causes.push(fieldErrors.invalid(child(path, 'name'), m.name, msg));
  }
  if (opts.namespaced) {
    if (!m.namespace) causes.push(fieldErrors.required(child(path, 'namespace')));
    else for (const msg of isDNS1123Label(m.namespace)) causes.push(fieldErrors.invalid(child(path, 'namespace'), m.namespace, msg));
  } else if (m.namespace) {
    causes.push(fieldErrors.forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  if (typeof m.generation === 'number' && m.generation < 0) {
    causes.push(fieldErrors.invalid(child(path, 'generation'), m.generation, 'must be greater than or equal to 0'));
  }
  causes.push(...validateLabels(m.labels, child(path, 'labels')));
  causes.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  causes.push(...validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences')));
  causes.push(...validateFinalizers(m.finalizers, child(path, 'finalizers')));
  return causes;
}

/** ValidateObjectMetaUpdate: the new metadata must be valid and identity fields unchanged. */
export function validateObjectMetaUpdate(
  meta: ObjectMeta | undefined,
  old: ObjectMeta | undefined,
  opts: ObjectMetaOptions,
  path = 'metadata',
): StatusCause[] {
  const m = meta ?? {};
  const o = old ?? {};
  const causes = validateObjectMeta(m, opts, path);
  for (const f of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
    if (o[f] !== undefined) causes.push(...validateImmutable(m[f], o[f], child(path, f), String(m[f] ?? '')));
  }
  return causes;
}
