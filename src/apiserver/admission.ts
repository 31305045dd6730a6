// Built-in admission: what Kubernetes' NamespaceLifecycle plugin enforces.
import { ApiError, errors } from '../api/errors.ts';
import type { ResourceDef } from './registry/types.ts';
import type { AdmissionHook } from './resources/context.ts';
import type { ObjectService } from './resources/objects.ts';

/** Namespaces the server creates on start. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
/** Namespaces that cannot be deleted (Kubernetes' NamespaceLifecycle "immortal" set). */
export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/**
 * Objects may be created only in a namespace that exists and is not being
 * deleted; the system namespaces cannot be deleted.
 */
export function namespaceLifecycle(objects: ObjectService, namespaces: () => ResourceDef): AdmissionHook {
  return async ({ operation, def, obj }) => {
    if (operation !== 'create' || !def.namespaced) return;
    const name = obj.metadata.namespace ?? '';
    let phase: string | undefined;
    try {
      phase = (await objects.getStored(namespaces(), '', name)).obj.status?.phase;
    } catch {
      throw errors.notFound({ group: '', resource: 'namespaces' }, name);
    }
    if (phase === 'Terminating') {
      const message = `${def.plural}${def.group ? `.${def.group}` : ''} "${obj.metadata.name ?? obj.metadata.generateName ?? ''}" is forbidden: unable to create new content in namespace ${name} because it is being terminated`;
      // Clients (controllers) recognise this case by the NamespaceTerminating cause, as in Kubernetes.
      throw new ApiError(403, 'Forbidden', message, {
        name: obj.metadata.name,
        group: def.group || undefined,
        kind: def.plural,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${name} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  };
}
