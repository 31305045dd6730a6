// core/v1 configmaps and secrets.
import { deepEqual, fieldErrors, key, validateImmutable } from '../../api/field-errors.ts';
import { isConfigMapKey } from '../../api/names.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { age, ageColumn, col } from './helpers.ts';
import type { ResourceDef } from './types.ts';

/** Kubernetes' MaxSecretSize, also the limit for ConfigMaps: 1 MiB. */
export const MAX_CONFIG_SIZE = 1024 * 1024;

function validateKeys(data: Record<string, unknown> | undefined, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const k of Object.keys(data ?? {})) {
    for (const msg of isConfigMapKey(k)) causes.push(fieldErrors.invalid(key(path, k), k, msg));
  }
  return causes;
}

/** Objects marked immutable keep their data (and stay immutable). */
function validateImmutableData(obj: KubeObject, old: KubeObject | undefined, dataFields: string[]): StatusCause[] {
  if (old?.immutable !== true) return [];
  const causes: StatusCause[] = [];
  if (obj.immutable !== true) causes.push(fieldErrors.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of dataFields) {
    if (!deepEqual(obj[f] ?? {}, old[f] ?? {})) causes.push(fieldErrors.forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return causes;
}

export const configMaps: ResourceDef = {
  group: '',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: {},
  strategy: {
    validate(obj, old) {
      const causes = [...validateKeys(obj.data, 'data'), ...validateKeys(obj.binaryData, 'binaryData')];
      let size = 0;
      for (const [k, v] of Object.entries(obj.data ?? {})) {
        size += String(v).length;
        if (obj.binaryData && Object.hasOwn(obj.binaryData, k)) {
          causes.push(fieldErrors.invalid(key('data', k), k, 'duplicate of key present in binaryData'));
        }
      }
      for (const v of Object.values(obj.binaryData ?? {})) size += Buffer.from(String(v), 'base64').length;
      if (size > MAX_CONFIG_SIZE) causes.push(fieldErrors.tooLong('', MAX_CONFIG_SIZE));
      causes.push(...validateImmutableData(obj, old, ['data', 'binaryData']));
      return causes;
    },
    columns: [col('Data', 'Data contains the configuration data.'), ageColumn()],
    cells: (obj, now) => [Object.keys(obj.data ?? {}).length + Object.keys(obj.binaryData ?? {}).length, age(obj, now)],
  },
};

/** Keys each well-known secret type must carry. */
const REQUIRED_SECRET_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.key', 'tls.crt'],
};
const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';

function validateSecretType(obj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const data = obj.data ?? {};
  const type: string = obj.type ?? '';
  for (const k of REQUIRED_SECRET_KEYS[type] ?? []) {
    if (!Object.hasOwn(data, k)) causes.push(fieldErrors.required(key('data', k)));
  }
  if (type === 'kubernetes.io/service-account-token' && !obj.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION]) {
    causes.push(fieldErrors.required(key('metadata.annotations', SERVICE_ACCOUNT_NAME_ANNOTATION)));
  }
  if (type === 'kubernetes.io/basic-auth' && !data.username && !data.password) {
    causes.push(fieldErrors.required(key('data', 'username')), fieldErrors.required(key('data', 'password')));
  }
  return causes;
}

export const secrets: ResourceDef = {
  group: '',
  kind: 'Secret',
  listKind: 'SecretList',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: {},
  strategy: {
    defaults(obj) {
      obj.type ??= 'Opaque';
      // stringData is write-only: merged into data (overriding it) and never stored.
      if (obj.stringData && typeof obj.stringData === 'object') {
        obj.data ??= {};
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64');
      }
      delete obj.stringData;
    },
    validate(obj, old) {
      const causes = validateKeys(obj.data, 'data');
      let size = 0;
      for (const v of Object.values(obj.data ?? {})) size += Buffer.from(String(v), 'base64').length;
      if (size > MAX_CONFIG_SIZE) causes.push(fieldErrors.tooLong('data', MAX_CONFIG_SIZE));
      causes.push(...validateSecretType(obj));
      if (old) {
        causes.push(...validateImmutable(obj.type, old.type, 'type', obj.type ?? ''));
        causes.push(...validateImmutableData(obj, old, ['data']));
      }
      return causes;
    },
    columns: [
      col('Type', 'Used to facilitate programmatic handling of secret data.'),
      col('Data', 'Data contains the secret data.'),
      ageColumn(),
    ],
    cells: (obj, now) => [obj.type ?? '', Object.keys(obj.data ?? {}).length, age(obj, now)],
    fields: (obj) => ({ type: obj.type ?? '' }),
  },
};
