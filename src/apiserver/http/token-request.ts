// serviceaccounts/token (TokenRequest): issues a signed token for a service
// account, optionally bound to a pod, secret or node, as kubectl create token
// and the kubelet's projected volumes ask for it.
import { errors } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { RequestContext } from '../resources/context.ts';
import { timestamp } from '../resources/meta.ts';
import type { BoundObject } from '../serviceaccount/jwt.ts';
import { decodeObject, readBody } from './body.ts';
import type { Call } from './resource-handler.ts';
import { sendJson } from './respond.ts';

/** TokenRequestSpec's default lifetime (one hour). */
const DEFAULT_EXPIRATION_SECONDS = 3600;
/** Kubernetes refuses shorter tokens (validation: "may not specify a duration less than 10 minutes"). */
const MIN_EXPIRATION_SECONDS = 600;
/** ... and longer than 2^32 seconds. */
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const BOUND_KINDS: Record<string, string> = { Pod: 'pods', Secret: 'secrets', Node: 'nodes' };

function invalid(name: string, field: string, value: unknown, message: string): never {
  throw errors.invalid('authentication.k8s.io', 'TokenRequest', name, [
    { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${message}` },
  ]);
}

export async function createToken(call: Call, def: ResourceDef, _version: string, _ctx: RequestContext): Promise<void> {
  const { info, deps } = call;
  if (info.verb !== 'create') throw errors.methodNotAllowed();
  const issuer = deps.tokenIssuer;
  if (!issuer) throw errors.serviceUnavailable('service account token issuing is not configured');
  const body = decodeObject(await readBody(call.req), call.req.headers['content-type'] || 'application/json') as KubeObject;
  if (body.kind && body.kind !== 'TokenRequest') throw errors.badRequest(`expected TokenRequest, got ${body.kind}`);
  const spec = body.spec ?? {};
  const expirationSeconds: number = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) {
    invalid(info.name, 'spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes');
  }
  if (expirationSeconds > MAX_EXPIRATION_SECONDS) {
    invalid(info.name, 'spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds');
  }
  const sa = await deps.objects.get(def, 'v1', info.namespace, info.name);
  let bound: BoundObject | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    const resource = BOUND_KINDS[ref.kind];
    if (!resource || (ref.apiVersion ?? 'v1') !== 'v1') {
      invalid(info.name, 'spec.boundObjectRef.kind', ref.kind, 'supported values: "Pod", "Secret", "Node"');
    }
    const served = deps.registry.lookup('', 'v1', resource)!;
    const obj = await deps.objects.get(served.def, 'v1', ref.kind === 'Node' ? '' : info.namespace, ref.name);
    if (ref.kind === 'Pod' && (obj.spec?.serviceAccountName ?? 'default') !== info.name) {
      throw errors.badRequest(`cannot bind token for serviceaccount "${info.name}" to pod running with different serviceaccount name.`);
    }
    if (ref.uid && ref.uid !== obj.metadata.uid) {
      throw errors.conflict(
        { group: '', resource: ref.kind },
        ref.name,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    bound = { kind: ref.kind, name: ref.name, uid: obj.metadata.uid! };
  }
  const audiences: string[] = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences : issuer.apiAudiences;
  const now = deps.objects.now();
  const { token, expiresAt } = issuer.issue({
    namespace: info.namespace,
    serviceAccount: { name: info.name, uid: sa.metadata.uid! },
    audiences,
    expirationSeconds,
    bound,
    now,
  });
  sendJson(call.res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: info.name, namespace: info.namespace, creationTimestamp: timestamp(now) },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: timestamp(expiresAt) },
  });
}
