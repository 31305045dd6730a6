// Realistic CRDs for the tests: the Kubernetes docs' CronTab and a trimmed
// Istio DestinationRule (networking.istio.io, v1/v1beta1/v1alpha3).
import type { CustomResourceDefinition } from './types.ts';

export function cronTab(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['cronSpec'],
                  properties: {
                    cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
                    image: { type: 'string' },
                    replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
                    mode: { type: 'string', enum: ['a', 'b'] },
                  },
                },
                status: { type: 'object', properties: { replicas: { type: 'integer' } } },
              },
            },
          },
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
          },
          additionalPrinterColumns: [
            { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

const destinationRuleSchema = {
  type: 'object' as const,
  properties: {
    spec: {
      type: 'object' as const,
      required: ['host'],
      properties: {
        host: { type: 'string' as const },
        exportTo: {
          type: 'array' as const,
          items: { type: 'string' as const },
          'x-kubernetes-list-type': 'set' as const,
        },
        trafficPolicy: {
          type: 'object' as const,
          properties: {
            loadBalancer: {
              type: 'object' as const,
              oneOf: [
                { not: { anyOf: [{ required: ['simple'] }, { required: ['consistentHash'] }] } },
                { required: ['simple'] },
                { required: ['consistentHash'] },
              ],
              properties: {
                simple: {
                  type: 'string' as const,
                  enum: ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'],
                },
                consistentHash: {
                  type: 'object' as const,
                  properties: { httpHeaderName: { type: 'string' as const } },
                },
              },
            },
            portLevelSettings: {
              type: 'array' as const,
              maxItems: 4096,
              items: {
                type: 'object' as const,
                properties: {
                  port: {
                    type: 'object' as const,
                    properties: { number: { type: 'integer' as const, maximum: 4294967295, minimum: 0 } },
                  },
                },
              },
            },
          },
        },
        subsets: {
          type: 'array' as const,
          items: {
            type: 'object' as const,
            required: ['name'],
            properties: {
              name: { type: 'string' as const },
              labels: { type: 'object' as const, additionalProperties: { type: 'string' as const } },
              trafficPolicy: { type: 'object' as const, 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
        workloadSelector: {
          type: 'object' as const,
          properties: {
            matchLabels: {
              type: 'object' as const,
              maxProperties: 4096,
              additionalProperties: { type: 'string' as const, maxLength: 63 },
              'x-kubernetes-validations': [
                { rule: "self.all(key, !key.contains('*'))", message: 'wildcard not allowed in label key match' },
              ],
            },
          },
        },
      },
      'x-kubernetes-validations': [{ rule: 'has(self.host)', message: 'host is required' }],
    },
    status: { type: 'object' as const, 'x-kubernetes-preserve-unknown-fields': true },
  },
};

export function destinationRule(): CustomResourceDefinition {
  const version = (name: string, storage: boolean) => ({
    name,
    served: true,
    storage,
    schema: { openAPIV3Schema: structuredClone(destinationRuleSchema) },
    subresources: { status: {} },
    additionalPrinterColumns: [
      {
        name: 'Host',
        type: 'string',
        description: 'The name of a service from the service registry',
        jsonPath: '.spec.host',
      },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'destinationrules.networking.istio.io' },
    spec: {
      group: 'networking.istio.io',
      scope: 'Namespaced',
      names: {
        plural: 'destinationrules',
        singular: 'destinationrule',
        kind: 'DestinationRule',
        listKind: 'DestinationRuleList',
        shortNames: ['dr'],
        categories: ['istio-io', 'networking-istio-io'],
      },
      versions: [version('v1alpha3', false), version('v1beta1', false), version('v1', true)],
    },
  };
}
