// A hand-made, trimmed Deployment schema in Kubernetes' swagger "definitions"
// style, for the patch tests only: just the fields and patch metadata the
// tests exercise, with $ref and one allOf wrapper like the real documents.
import type { Schema, SchemaSource } from '../schema/types.ts';

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const strings: Schema = { type: 'array', items: { type: 'string' } };
const mergeList = (item: string, key: string, strategy = 'merge'): Schema => ({
  type: 'array',
  items: ref(item),
  'x-kubernetes-patch-merge-key': key,
  'x-kubernetes-patch-strategy': strategy,
});

export const definitions: Record<string, Schema> = {
  Deployment: {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: ref('ObjectMeta'),
      spec: ref('DeploymentSpec'),
      status: { type: 'object' },
    },
  },
  ObjectMeta: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      labels: stringMap,
      annotations: stringMap,
      finalizers: { ...strings, 'x-kubernetes-patch-strategy': 'merge' },
      ownerReferences: mergeList('OwnerReference', 'uid'),
    },
  },
  OwnerReference: {
    type: 'object',
    properties: { uid: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' } },
  },
  DeploymentSpec: {
    type: 'object',
    properties: {
      replicas: { type: 'integer' },
      selector: { type: 'object' },
      template: ref('PodTemplateSpec'),
      // The allOf wrapper is how OpenAPI v3 documents attach metadata to a $ref.
      strategy: { allOf: [ref('DeploymentStrategy')], 'x-kubernetes-patch-strategy': 'retainKeys' },
    },
  },
  DeploymentStrategy: {
    type: 'object',
    properties: { type: { type: 'string' }, rollingUpdate: ref('RollingUpdateDeployment') },
  },
  RollingUpdateDeployment: {
    type: 'object',
    properties: {
      maxSurge: { 'x-kubernetes-int-or-string': true },
      maxUnavailable: { 'x-kubernetes-int-or-string': true },
    },
  },
  PodTemplateSpec: { type: 'object', properties: { metadata: ref('ObjectMeta'), spec: ref('PodSpec') } },
  PodSpec: {
    type: 'object',
    properties: {
      containers: mergeList('Container', 'name'),
      initContainers: mergeList('Container', 'name'),
      volumes: mergeList('Volume', 'name', 'merge,retainKeys'),
      tolerations: { type: 'array', items: ref('Toleration') },
      nodeSelector: stringMap,
    },
  },
  Container: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      image: { type: 'string' },
      args: strings,
      ports: mergeList('ContainerPort', 'containerPort'),
      env: mergeList('EnvVar', 'name'),
      volumeMounts: mergeList('VolumeMount', 'mountPath'),
      resources: ref('ResourceRequirements'),
    },
  },
  ContainerPort: {
    type: 'object',
    properties: { containerPort: { type: 'integer' }, name: { type: 'string' }, protocol: { type: 'string' } },
  },
  EnvVar: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' }, valueFrom: {} } },
  VolumeMount: { type: 'object', properties: { mountPath: { type: 'string' }, name: { type: 'string' } } },
  ResourceRequirements: { type: 'object', properties: { limits: stringMap, requests: stringMap } },
  Volume: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      configMap: { type: 'object' },
      secret: { type: 'object' },
      emptyDir: { type: 'object' },
    },
  },
  Toleration: { type: 'object', properties: { key: { type: 'string' }, effect: { type: 'string' } } },
};

/** Resolves "#/definitions/X" and single-element allOf wrappers, like the real SchemaSource. */
export const source: SchemaSource = {
  root: (_group, _version, kind) => definitions[kind],
  resolve(schema) {
    let current = schema;
    for (;;) {
      if (current.$ref) {
        const found = definitions[current.$ref.replace('#/definitions/', '')];
        if (!found) return current;
        current = found;
      } else if (current.allOf?.length === 1 && !current.properties) {
        current = current.allOf[0];
      } else {
        return current;
      }
    }
  },
};

export const deploymentSchema: Schema = definitions.Deployment;
