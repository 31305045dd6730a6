// pods/binding (the scheduler's one sanctioned change to a pod's spec) and
// pods/eviction (a delete that kubectl drain asks for politely).
import { errors } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { RequestContext } from '../resources/context.ts';
import { deleteObject } from '../resources/deletion.ts';
import { timestamp } from '../resources/meta.ts';
import { decodeObject, readBody } from './body.ts';
import type { Call } from './resource-handler.ts';
import { sendJson } from './respond.ts';

const SUCCESS = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

async function body(call: Call): Promise<KubeObject> {
  return decodeObject(await readBody(call.req), call.req.headers['content-type'] || 'application/json') as KubeObject;
}

export async function bindPod(call: Call, def: ResourceDef, version: string, ctx: RequestContext): Promise<void> {
  const { info, deps } = call;
  if (info.verb !== 'create') throw errors.methodNotAllowed();
  const binding = await body(call);
  const node = binding.target?.name;
  if (typeof node !== 'string' || node === '') {
    throw errors.invalid('', 'Binding', info.name, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  }
  const gr = { group: '', resource: 'pods' };
  await deps.objects.mutate(def, version, info.namespace, info.name, ctx, 'binding', (pod) => {
    if (pod.metadata.deletionTimestamp) {
      throw errors.conflict(gr, info.name, 'pod is being deleted, cannot be assigned to a host');
    }
    if (pod.spec?.nodeName) {
      throw errors.conflict(gr, info.name, `pod ${info.name} is already assigned to node "${pod.spec.nodeName}"`);
    }
    const uid = binding.metadata?.uid;
    if (uid && uid !== pod.metadata.uid) throw errors.conflict(gr, info.name, 'the UID of the binding does not match the pod');
    pod.spec.nodeName = node;
    const conditions = (pod.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(deps.objects.now()) });
    pod.status = { ...pod.status, conditions };
    if (binding.metadata?.annotations) {
      pod.metadata.annotations = { ...pod.metadata.annotations, ...binding.metadata.annotations };
    }
    return pod;
  });
  sendJson(call.res, 201, SUCCESS);
}

export async function evictPod(call: Call, def: ResourceDef, version: string, ctx: RequestContext): Promise<void> {
  const { info, deps } = call;
  if (info.verb !== 'create') throw errors.methodNotAllowed();
  const eviction = await body(call);
  if (eviction.metadata?.name && eviction.metadata.name !== info.name) {
    throw errors.badRequest(`name in URL does not match name in Eviction object`);
  }
  // PodDisruptionBudgets are not served yet, so no budget can refuse an eviction.
  await deleteObject({
    objects: deps.objects,
    def,
    version,
    namespace: info.namespace,
    name: info.name,
    options: eviction.deleteOptions ?? {},
    ctx,
  });
  sendJson(call.res, 201, SUCCESS);
}
