// Adapters from the registry's view of a resource (ResourceDef + served
// version + SchemaSource) to the plain options of updateManagedFields and
// serverSideApply, in the shapes the object service and HTTP layer call.
import { apiVersionOf, type KubeObject } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';
import { updateManagedFields } from './managed-fields.ts';

type ResourceCall = {
  def: ResourceDef;
  /** The served version of the request. */
  version: string;
  /** "" for the main resource. */
  subresource: string;
  schemas: SchemaSource;
};

export type ResourceContext = {
  apiVersion: string;
  kind: string;
  subresource: string | undefined;
  schema: Schema | undefined;
  source: SchemaSource;
  resetFields: string[][];
  unstructured: boolean;
};

/** The apply/managedFields options a resource request implies. */
export function resourceContext(call: ResourceCall): ResourceContext {
  const { def, version, subresource, schemas } = call;
  // Kubernetes' ResetFields: each endpoint of a kind with a status
  // subresource leaves the other endpoint's half alone.
  const resetFields = !def.subresources.status
    ? []
    : subresource === 'status'
      ? [['spec']]
      : subresource
        ? []
        : [['status']];
  return {
    apiVersion: apiVersionOf(def.group, version),
    kind: def.kind,
    subresource: subresource || undefined,
    schema: schemas.root(def.group, version, def.kind),
    source: schemas,
    resetFields,
    unstructured: !!def.custom,
  };
}

export type ResourceApplyOptions = ResourceCall & {
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  now: Date;
};

/** ObjectService's ManagedFieldsTracker: managedFields for a create/update/patch of a resource. */
export function trackManagedFields(
  args: ResourceCall & { live: KubeObject | undefined; updated: KubeObject; manager: string; now: Date },
): KubeObject {
  const rc = resourceContext(args);
  return updateManagedFields({ ...rc, live: args.live, updated: args.updated, manager: args.manager, now: args.now });
}
