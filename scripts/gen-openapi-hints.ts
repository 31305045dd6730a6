// Facts the generator needs that @kubernetes/client-node's models flatten away:
// which Go package a few types live in, which strings are Quantities, and what
// the untyped ("any") fields really are. Learned from Kubernetes' types.go.

/** Group/versions whose kinds go into the generated definitions (what skiff serves, plus a few cheap extras). */
export const INCLUDED_GROUP_VERSIONS = [
  'v1',
  'apps/v1',
  'batch/v1',
  'discovery.k8s.io/v1',
  'networking.k8s.io/v1',
  'coordination.k8s.io/v1',
  'events.k8s.io/v1',
  'apiextensions.k8s.io/v1',
  'autoscaling/v1',
  'autoscaling/v2',
  'policy/v1',
  'rbac.authorization.k8s.io/v1',
  'authentication.k8s.io/v1',
  'authorization.k8s.io/v1',
  'scheduling.k8s.io/v1',
  'node.k8s.io/v1',
  'storage.k8s.io/v1',
];

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

/** Unprefixed models defined in k8s.io/apimachinery/pkg/apis/meta/v1 (client-node names them V1X). */
export const META_TYPES = [
  'APIGroup',
  'APIGroupList',
  'APIResource',
  'APIResourceList',
  'APIVersions',
  'Condition',
  'DeleteOptions',
  'FieldSelectorRequirement',
  'GroupVersionForDiscovery',
  'LabelSelector',
  'LabelSelectorRequirement',
  'ListMeta',
  'ManagedFieldsEntry',
  'ObjectMeta',
  'OwnerReference',
  'Preconditions',
  'ServerAddressByClientCIDR',
  'ShardInfo',
  'Status',
  'StatusCause',
  'StatusDetails',
  'WatchEvent',
];

/**
 * Types that client-node only reaches through another group's subresource
 * (apps' scale returns autoscaling's Scale, pods/eviction takes policy's Eviction).
 */
export const GROUP_OVERRIDES: Record<string, string> = {
  V1Scale: 'autoscaling',
  V1ScaleSpec: 'autoscaling',
  V1ScaleStatus: 'autoscaling',
  V1Eviction: 'policy',
  // core types that only storage.k8s.io's StorageClass uses
  V1TopologySelectorTerm: '',
  V1TopologySelectorLabelRequirement: '',
};

/** Kinds that exist as API objects although client-node only shows them as subresource bodies. */
export const EXTRA_KINDS: { model: string; group: string; version: string; kind: string }[] = [
  { model: 'V1Scale', group: 'autoscaling', version: 'v1', kind: 'Scale' },
  { model: 'V1Eviction', group: 'policy', version: 'v1', kind: 'Eviction' },
];

export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const TIME = `${META}Time`;
export const MICRO_TIME = `${META}MicroTime`;
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
export const FIELDS_V1 = `${META}FieldsV1`;
const APIEXT = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.';
export const JSON_VALUE = `${APIEXT}JSON`;

/** Model.field (client-node names, JSON field names) whose strings, or map values, are resource.Quantity. */
export const QUANTITY_FIELDS = new Set([
  'V1ResourceRequirements.limits',
  'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits',
  'V1VolumeResourceRequirements.requests',
  'V1EmptyDirVolumeSource.sizeLimit',
  'V1ResourceFieldSelector.divisor',
  'V1NodeStatus.capacity',
  'V1NodeStatus.allocatable',
  'V1PersistentVolumeSpec.capacity',
  'V1PersistentVolumeClaimStatus.capacity',
  'V1PersistentVolumeClaimStatus.allocatedResources',
  'V1ResourceQuotaSpec.hard',
  'V1ResourceQuotaStatus.hard',
  'V1ResourceQuotaStatus.used',
  'V1LimitRangeItem.max',
  'V1LimitRangeItem.min',
  'V1LimitRangeItem._default',
  'V1LimitRangeItem.defaultRequest',
  'V1LimitRangeItem.maxLimitRequestRatio',
  'V1PodSpec.overhead',
  'V1ContainerStatus.allocatedResources',
  'V1Overhead.podFixed',
  'V1CSIStorageCapacity.capacity',
  'V1CSIStorageCapacity.maximumVolumeSize',
  'V2MetricTarget.value',
  'V2MetricTarget.averageValue',
  'V2MetricValueStatus.value',
  'V2MetricValueStatus.averageValue',
  'V1NodeRuntimeHandlerFeatures.recursiveReadOnlyMounts',
]);

/** Model.field (client-node JS names) whose Date is a metav1.MicroTime rather than metav1.Time. */
export const MICRO_TIME_FIELDS = new Set([
  'CoreV1Event.eventTime',
  'CoreV1EventSeries.lastObservedTime',
  'EventsV1Event.eventTime',
  'EventsV1EventSeries.lastObservedTime',
  'V1LeaseSpec.acquireTime',
  'V1LeaseSpec.renewTime',
]);

/** What client-node's untyped ("any") fields are, by Model.field (JS names). Default: RawExtension. */
export const ANY_FIELDS: Record<string, string> = {
  'V1ManagedFieldsEntry.fieldsV1': FIELDS_V1,
  'V1JSONSchemaProps._default': JSON_VALUE,
  'V1JSONSchemaProps.example': JSON_VALUE,
  'V1JSONSchemaProps.additionalItems': `${APIEXT}JSONSchemaPropsOrBool`,
  'V1JSONSchemaProps.additionalProperties': `${APIEXT}JSONSchemaPropsOrBool`,
  'V1JSONSchemaProps.items': `${APIEXT}JSONSchemaPropsOrArray`,
  'V1CustomResourceSubresources.status': `${APIEXT}CustomResourceSubresourceStatus`,
};

/** Hand-made definitions for the types client-node turns into primitives or `any`. */
export const SPECIAL_DEFINITIONS: Record<string, Record<string, unknown>> = {
  [QUANTITY]: {
    description:
      'Quantity is a fixed-point representation of a number, like "100m", "1.5Gi" or 2. JSON accepts a string or a number.',
    type: 'string',
    format: 'quantity',
  },
  [TIME]: {
    description:
      'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON (RFC 3339, second precision).',
    type: 'string',
    format: 'date-time',
  },
  [MICRO_TIME]: {
    description: 'MicroTime is version of Time with microsecond level precision.',
    type: 'string',
    format: 'date-time',
  },
  [INT_OR_STRING]: {
    description: 'IntOrString is a type that can hold an int32 or a string.',
    type: 'string',
    format: 'int-or-string',
    'x-kubernetes-int-or-string': true,
  },
  [RAW_EXTENSION]: {
    description: 'RawExtension holds an arbitrary embedded object (any JSON).',
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [FIELDS_V1]: {
    description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.',
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [JSON_VALUE]: {
    description:
      'JSON represents any valid JSON value: bool, int64, float64, string, []interface{}, map[string]interface{} and nil.',
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [`${APIEXT}JSONSchemaPropsOrBool`]: {
    description:
      'JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value. Defaults to true for the boolean.',
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [`${APIEXT}JSONSchemaPropsOrArray`]: {
    description: 'JSONSchemaPropsOrArray represents a value that can either be a JSONSchemaProps or an array of them.',
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [`${APIEXT}JSONSchemaPropsOrStringArray`]: {
    description: 'JSONSchemaPropsOrStringArray represents a JSONSchemaProps or a string array.',
    'x-kubernetes-preserve-unknown-fields': true,
  },
  [`${APIEXT}CustomResourceSubresourceStatus`]: {
    description:
      'CustomResourceSubresourceStatus defines how to serve the status subresource for CustomResources. It has no fields.',
    type: 'object',
  },
};

/** Deployment/ReplicaSet/DaemonSet versions removed from Kubernetes that kubectl users still apply. */
export const LEGACY_WORKLOADS: { group: string; version: string; kinds: string[] }[] = [
  { group: 'apps', version: 'v1beta1', kinds: ['Deployment'] },
  { group: 'apps', version: 'v1beta2', kinds: ['Deployment', 'ReplicaSet', 'DaemonSet'] },
  { group: 'extensions', version: 'v1beta1', kinds: ['Deployment', 'ReplicaSet', 'DaemonSet'] },
];
