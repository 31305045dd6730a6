// The scale subresource: an autoscaling/v1 Scale view of spec.replicas
// (kubectl scale, HPA-style clients).
import { errors } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ResourceDef, ScaleSubresource } from '../registry/types.ts';
import type { RequestContext } from '../resources/context.ts';
import { decodeBody, decodeObject, mediaType, readBody } from './body.ts';
import type { Call } from './resource-handler.ts';
import { sendJson } from './respond.ts';

function pathParts(path: string): string[] {
  return path.replace(/^\./, '').split('.').filter(Boolean);
}

function readPath(obj: KubeObject, path: string): unknown {
  let cur: unknown = obj;
  for (const part of pathParts(path)) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function writePath(obj: KubeObject, path: string, value: unknown): void {
  const parts = pathParts(path);
  let cur = obj as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    if (typeof cur[part] !== 'object' || cur[part] === null) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts.at(-1)!] = value;
}

/** A metav1.LabelSelector as the selector string Scale.status.selector carries. */
export function selectorString(selector: unknown): string {
  if (typeof selector === 'string') return selector;
  if (typeof selector !== 'object' || selector === null) return '';
  const { matchLabels = {}, matchExpressions = [] } = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const parts = Object.entries(matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const e of matchExpressions) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',');
}

function toScale(obj: KubeObject, scale: ScaleSubresource): KubeObject {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  const selector = scale.labelSelectorPath ? readPath(obj, scale.labelSelectorPath) : obj.spec?.selector;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: Number(readPath(obj, scale.specReplicasPath) ?? 0) },
    status: { replicas: Number(readPath(obj, scale.statusReplicasPath) ?? 0), selector: selectorString(selector) },
  };
}

export async function scaleHandler(
  call: Call,
  def: ResourceDef,
  version: string,
  contextOf: (call: Call) => RequestContext,
): Promise<void> {
  const { info, deps } = call;
  const scale = def.subresources.scale!;
  if (info.verb === 'get') {
    return sendJson(call.res, 200, toScale(await deps.objects.get(def, version, info.namespace, info.name), scale));
  }
  if (info.verb !== 'update' && info.verb !== 'patch') throw errors.methodNotAllowed();
  const ctx = contextOf(call);
  const contentType = mediaType(call.req.headers['content-type']);
  const raw = await readBody(call.req);
  const body = info.verb === 'update' ? decodeObject(raw, contentType || 'application/json') : decodeBody(raw, contentType);
  let precondition: string | undefined;
  const updated = await deps.objects.mutate(def, version, info.namespace, info.name, ctx, 'scale', (current) => {
    const currentScale = toScale(current, scale);
    const wanted =
      info.verb === 'update'
        ? (body as KubeObject)
        : deps.applyPatch(contentType === 'application/json-patch+json' ? 'json' : 'merge', currentScale, body, undefined);
    precondition = wanted.metadata?.resourceVersion;
    if (precondition && precondition !== current.metadata.resourceVersion) {
      throw errors.conflict(
        { group: def.group, resource: def.plural },
        info.name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    const replicas = wanted.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid('autoscaling', 'Scale', info.name, [
        { reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
      ]);
    }
    writePath(current, scale.specReplicasPath, replicas);
    return current;
  });
  sendJson(call.res, 200, toScale(updated, scale), { warnings: ctx.warnings });
}
