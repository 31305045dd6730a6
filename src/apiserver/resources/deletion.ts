// Deleting objects as Kubernetes does: preconditions, propagation policy
// recorded as finalizers for the garbage collector, graceful deletion for
// pods on a node, and removal once the last finalizer is gone.
import { errors } from '../../api/errors.ts';
import { apiVersionOf, type KubeObject } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import { clone, toVersion } from './codec.ts';
import type { RequestContext } from './context.ts';
import { timestamp } from './meta.ts';
import type { ObjectService } from './objects.ts';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export type DeleteOptions = {
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
};

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';
const POLICIES: PropagationPolicy[] = ['Orphan', 'Background', 'Foreground'];

/** Old API versions default to orphaning dependents, as Kubernetes kept them doing. */
const ORPHAN_BY_DEFAULT_VERSIONS = new Set(['extensions/v1beta1', 'apps/v1beta1', 'apps/v1beta2']);

export type DeleteResult = { obj: KubeObject; deleted: boolean };

function isNamespace(def: ResourceDef): boolean {
  return def.group === '' && def.kind === 'Namespace';
}

/**
 * Finalizers that keep a deleted object around: metadata.finalizers, and for
 * a namespace its spec.finalizers (the namespace controller empties its
 * content, then clears them through namespaces/<name>/finalize).
 */
export function pendingFinalizers(def: ResourceDef, obj: KubeObject): string[] {
  const own = obj.metadata.finalizers ?? [];
  return isNamespace(def) ? [...own, ...((obj.spec?.finalizers as string[] | undefined) ?? [])] : own;
}

export function validateDeleteOptions(options: DeleteOptions): void {
  if (options.propagationPolicy !== undefined && !POLICIES.includes(options.propagationPolicy)) {
    throw errors.invalid('', 'DeleteOptions', '', [
      {
        reason: 'FieldValueNotSupported',
        field: 'propagationPolicy',
        message: `Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
      },
    ]);
  }
  if (options.propagationPolicy !== undefined && options.orphanDependents !== undefined) {
    throw errors.invalid('', 'DeleteOptions', '', [
      {
        reason: 'FieldValueInvalid',
        field: 'propagationPolicy',
        message: 'Invalid value: "": orphanDependents and deletionPropagation cannot be both set',
      },
    ]);
  }
  if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0) {
    options.gracePeriodSeconds = 0;
  }
}

function policyOf(options: DeleteOptions, requestApiVersion: string): PropagationPolicy {
  if (options.propagationPolicy) return options.propagationPolicy;
  if (options.orphanDependents === true) return 'Orphan';
  if (options.orphanDependents === false) return 'Background';
  return ORPHAN_BY_DEFAULT_VERSIONS.has(requestApiVersion) ? 'Orphan' : 'Background';
}

/** Seconds a pod on a node gets to stop; 0 means delete now. */
function gracePeriodFor(def: ResourceDef, obj: KubeObject, options: DeleteOptions): number {
  if (def.group !== '' || def.kind !== 'Pod') return 0;
  const phase = obj.status?.phase;
  if (!obj.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  return options.gracePeriodSeconds ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
}

export async function deleteObject(args: {
  objects: ObjectService;
  def: ResourceDef;
  version: string;
  namespace: string;
  name: string;
  options: DeleteOptions;
  ctx: RequestContext;
}): Promise<DeleteResult> {
  const { objects, def, version, namespace, name, options, ctx } = args;
  validateDeleteOptions(options);
  const gr = { group: def.group, resource: def.plural };
  const { obj: stored, kv } = await objects.getStored(def, namespace, name);
  const pre = options.preconditions;
  if (pre?.uid && pre.uid !== stored.metadata.uid) {
    throw errors.conflict(
      gr,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${stored.metadata.uid}`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== String(kv.modRevision)) {
    throw errors.conflict(
      gr,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${kv.modRevision}`,
    );
  }

  const policy = policyOf(options, apiVersionOf(def.group, version));
  const next = clone(stored);
  const finalizers = new Set(next.metadata.finalizers ?? []);
  if (policy === 'Orphan') finalizers.add(ORPHAN_FINALIZER);
  if (policy === 'Foreground') finalizers.add(FOREGROUND_FINALIZER);
  if (policy !== 'Orphan') finalizers.delete(ORPHAN_FINALIZER);
  if (policy !== 'Foreground') finalizers.delete(FOREGROUND_FINALIZER);
  const grace = gracePeriodFor(def, stored, options);
  const alreadyDeleting = Boolean(stored.metadata.deletionTimestamp);
  const namespaceFinalizers = isNamespace(def) ? ((stored.spec?.finalizers as string[] | undefined) ?? []) : [];
  if (isNamespace(def)) next.status = { ...next.status, phase: 'Terminating' };

  if (finalizers.size === 0 && namespaceFinalizers.length === 0 && grace === 0 && !alreadyDeleting) {
    if (ctx.dryRun) return { obj: toVersion(def, stored, version), deleted: true };
    return { obj: toVersion(def, await objects.remove(def, kv), version), deleted: true };
  }

  next.metadata.finalizers = [...finalizers];
  if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
  const now = objects.now();
  if (!alreadyDeleting) {
    next.metadata.deletionTimestamp = timestamp(new Date(now.getTime() + grace * 1000));
    next.metadata.deletionGracePeriodSeconds = grace;
  } else if (grace < (stored.metadata.deletionGracePeriodSeconds ?? 0)) {
    // A shorter grace period may be asked for while a pod terminates (kubectl delete --grace-period=0 --force).
    next.metadata.deletionTimestamp = timestamp(new Date(now.getTime() + grace * 1000));
    next.metadata.deletionGracePeriodSeconds = grace;
  }
  if (grace === 0 && alreadyDeleting && finalizers.size === 0 && namespaceFinalizers.length === 0) {
    if (ctx.dryRun) return { obj: toVersion(def, stored, version), deleted: true };
    return { obj: toVersion(def, await objects.remove(def, kv), version), deleted: true };
  }
  if (ctx.dryRun) return { obj: toVersion(def, next, version), deleted: false };
  const written = await objects.replaceStored(def, next, kv);
  return { obj: toVersion(def, written, version), deleted: false };
}
