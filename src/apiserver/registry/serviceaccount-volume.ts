// The ServiceAccount admission plugin's token volume: every container gets a
// projected `kube-api-access-<5>` volume (token, ca.crt, namespace) mounted
// read-only at /var/run/secrets/kubernetes.io/serviceaccount, unless the pod
// says automountServiceAccountToken: false or a container already mounts
// something there.
import { randomInt } from 'node:crypto';
import { DEFAULT_VOLUME_MODE } from './pod-defaults.ts';
import type { Json } from './helpers.ts';

export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The token lifetime Kubernetes asks for here: 3607 s marks "legacy-style" tokens that the server may extend. */
const TOKEN_EXPIRATION_SECONDS = 3607;
/** Kubernetes' utilrand alphabet (no vowels, no confusable characters) and its 5-character suffix. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 5;

function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) out += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return out;
}

export function tokenVolumeSource(): Json {
  return {
    defaultMode: DEFAULT_VOLUME_MODE,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

/** Adds the volume and mounts (idempotent: an existing kube-api-access-* volume is reused). */
export function addServiceAccountTokenVolume(spec: Json, suffix: () => string = randomSuffix): void {
  // The ServiceAccount's own automountServiceAccountToken is not consulted here (no store access at this point).
  if (spec.automountServiceAccountToken === false) return;
  const volumes: Json[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  const existing = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  const name: string = existing?.name ?? `${SERVICE_ACCOUNT_VOLUME_PREFIX}${suffix()}`;
  let needed = false;
  for (const list of [spec.initContainers, spec.containers]) {
    for (const c of Array.isArray(list) ? list : []) {
      if (!c || typeof c !== 'object') continue;
      const mounts: Json[] = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
      if (mounts.some((m) => m?.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
      c.volumeMounts = [...mounts, { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
      needed = true;
    }
  }
  if (needed && !existing) spec.volumes = [...volumes, { name, projected: tokenVolumeSource() }];
}
