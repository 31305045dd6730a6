// Hand-made schemas shaped like Kubernetes' published apps/v1 Deployment
// (swagger definitions with $ref and the x-kubernetes-* extensions), for tests.
import type { KubeObject } from '../../api/types.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const stringMap: Schema = { type: 'object', additionalProperties: str };

const definitions: Record<string, Schema> = {
  Deployment: {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: ref('ObjectMeta'),
      spec: ref('DeploymentSpec'),
      status: ref('DeploymentStatus'),
    },
  },
  ObjectMeta: {
    type: 'object',
    properties: {
      name: str,
      namespace: str,
      uid: str,
      resourceVersion: str,
      generation: int,
      creationTimestamp: str,
      labels: stringMap,
      annotations: stringMap,
      finalizers: {
        type: 'array',
        items: str,
        'x-kubernetes-list-type': 'set',
        'x-kubernetes-patch-strategy': 'merge',
      },
      managedFields: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
    },
  },
  LabelSelector: {
    type: 'object',
    properties: { matchLabels: stringMap },
    'x-kubernetes-map-type': 'atomic',
  },
  DeploymentSpec: {
    type: 'object',
    properties: {
      replicas: int,
      selector: ref('LabelSelector'),
      template: ref('PodTemplateSpec'),
      strategy: {
        type: 'object',
        properties: {
          type: str,
          rollingUpdate: { type: 'object', properties: { maxSurge: { 'x-kubernetes-int-or-string': true } } },
        },
      },
    },
  },
  DeploymentStatus: { type: 'object', properties: { replicas: int, readyReplicas: int } },
  PodTemplateSpec: { type: 'object', properties: { metadata: ref('ObjectMeta'), spec: ref('PodSpec') } },
  PodSpec: {
    type: 'object',
    properties: {
      containers: {
        type: 'array',
        items: ref('Container'),
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
      },
      restartPolicy: str,
    },
  },
  Container: {
    type: 'object',
    properties: {
      name: str,
      image: str,
      args: { type: 'array', items: str },
      env: { type: 'array', items: ref('EnvVar'), 'x-kubernetes-patch-merge-key': 'name' },
      ports: {
        type: 'array',
        items: ref('ContainerPort'),
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
      },
      resources: { type: 'object', properties: { limits: stringMap } },
    },
  },
  EnvVar: { type: 'object', properties: { name: str, value: str } },
  ContainerPort: {
    type: 'object',
    properties: { containerPort: int, name: str, protocol: { type: 'string', default: 'TCP' } },
  },
};

export const source: SchemaSource = {
  root: (group, version, kind) =>
    group === 'apps' && version === 'v1' && kind === 'Deployment' ? ref(kind) : undefined,
  resolve: (schema) => {
    let s = schema;
    while (s.$ref) s = definitions[s.$ref.replace('#/definitions/', '')];
    return s;
  },
};

export const deploymentSchema = source.root('apps', 'v1', 'Deployment');

/** An nginx Deployment as a user would write it for `kubectl apply`. */
export function nginxDeployment(overrides: { replicas?: number; image?: string } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: overrides.replicas ?? 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'nginx', image: overrides.image ?? 'nginx:1.27', ports: [{ containerPort: 80 }] }],
        },
      },
    },
  };
}

/** Freezes a value deeply, so a test fails if code under test mutates its input. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
