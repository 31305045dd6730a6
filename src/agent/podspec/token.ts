// Service-account tokens for projected volumes: a TokenRequest bound to the
// pod, asked of the API server as the kubelet does, cached until 80% of its
// lifetime has passed (the kubelet's token manager refresh point).
import type { KubeObject } from '../../api/types.ts';
import type { Client } from '../../client/client.ts';
import type { TokenSource } from './volumes.ts';

/** Refresh once this share of the lifetime is used (Kubernetes' token manager does the same). */
const REFRESH_FRACTION = 0.8;

/** The TokenRequest body for a pod-bound token. */
export function tokenRequestFor(pod: KubeObject, request: { audience?: string; expirationSeconds: number }): KubeObject {
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name: pod.spec?.serviceAccountName || 'default', namespace: pod.metadata.namespace },
    spec: {
      audiences: request.audience ? [request.audience] : [],
      expirationSeconds: request.expirationSeconds,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
    },
  };
}

/** A TokenSource for preparePodVolumes that asks the API server and caches per audience and lifetime. */
export function podTokenSource(client: Client, pod: KubeObject, now: () => number = Date.now): TokenSource {
  const cache = new Map<string, { token: string; refreshAt: number }>();
  return async (request) => {
    const key = `${request.audience ?? ''}/${request.expirationSeconds}`;
    const hit = cache.get(key);
    if (hit && now() < hit.refreshAt) return hit.token;
    const ns = encodeURIComponent(pod.metadata.namespace ?? 'default');
    const sa = encodeURIComponent(pod.spec?.serviceAccountName || 'default');
    const issued = now();
    const answer = await client.request<KubeObject>({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
      body: tokenRequestFor(pod, request),
    });
    const token: string = answer.status?.token ?? '';
    const expires = Date.parse(answer.status?.expirationTimestamp ?? '') || issued + request.expirationSeconds * 1000;
    cache.set(key, { token, refreshAt: issued + (expires - issued) * REFRESH_FRACTION });
    return token;
  };
}
