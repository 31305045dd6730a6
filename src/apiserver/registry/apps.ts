// apps/v1 Deployments, ReplicaSets, DaemonSets, StatefulSets and
// ControllerRevisions, plus their apps/v1beta1, apps/v1beta2 and
// extensions/v1beta1 views (stored as apps/v1).
import { formatLabels, labelSelectorToRequirements, selectorToString } from '../../api/labels.ts';
import type { KubeObject } from '../../api/types.ts';
import {
  validateControllerRevision,
  validateDaemonSet,
  validateDeployment,
  validateReplicaSet,
  validateStatefulSet,
} from './apps-validation.ts';
import {
  daemonSetFromV1,
  daemonSetToV1,
  defaultDaemonSet,
  defaultDeployment,
  defaultReplicaSet,
  defaultStatefulSet,
  deploymentFromV1,
  deploymentToV1,
  type Flavor,
} from './apps-versions.ts';
import { age, ageColumn, col, containerCells, containersColumn, imagesColumn, int, type Json, keepStatus, selectorCell, selectorColumn } from './helpers.ts';
import type { ResourceDef, ScaleSubresource, Strategy, TableColumn } from './types.ts';

/** Built-in workloads expose spec.replicas/status.replicas through /scale; the selector is a LabelSelector object. */
const SCALE: ScaleSubresource = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  labelSelectorPath: '.spec.selector',
};

type Kind = {
  kind: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  appsVersions: string[];
  extensions: boolean;
  scale: boolean;
  status: boolean;
  defaults?: (obj: KubeObject, flavor: Flavor) => void;
  validate: Strategy['validate'];
  columns: TableColumn[];
  cells: Strategy['cells'];
  toV1?: (obj: KubeObject, flavor: Flavor) => KubeObject;
  fromV1?: (obj: KubeObject, flavor: Flavor) => KubeObject;
  fields?: Strategy['fields'];
};

/** Kubernetes clears status on create for workloads with a status subresource. */
function clearStatus(obj: KubeObject): void {
  obj.status = {};
}

function deploymentSelector(selector: Json): string {
  try {
    return selectorToString(labelSelectorToRequirements(selector) ?? []);
  } catch {
    return '<invalid>';
  }
}

const DEPLOYMENT: Kind = {
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  appsVersions: ['v1', 'v1beta2', 'v1beta1'],
  extensions: true,
  scale: true,
  status: true,
  defaults: defaultDeployment,
  validate: validateDeployment,
  toV1: deploymentToV1,
  fromV1: deploymentFromV1,
  columns: [
    col('Ready', 'Number of the pod with ready state'),
    col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn('Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
  ],
  cells(obj, now) {
    const [names, images] = containerCells(obj.spec?.template?.spec?.containers);
    const status: Json = obj.status ?? {};
    return [
      `${int(status.readyReplicas)}/${int(obj.spec?.replicas)}`,
      int(status.updatedReplicas),
      int(status.availableReplicas),
      age(obj, now),
      names,
      images,
      deploymentSelector(obj.spec?.selector),
    ];
  },
};

const REPLICASET: Kind = {
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  appsVersions: ['v1', 'v1beta2'],
  extensions: true,
  scale: true,
  status: true,
  defaults: defaultReplicaSet,
  validate: validateReplicaSet,
  columns: [
    col('Desired', 'Replicas is the number of desired replicas.', { type: 'integer' }),
    col('Current', 'Replicas is the most recently observed number of replicas.', { type: 'integer' }),
    col('Ready', 'The number of ready replicas for this replica set.', { type: 'integer' }),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn('Selector is a label query over pods that should match the replica count.'),
  ],
  cells(obj, now) {
    const [names, images] = containerCells(obj.spec?.template?.spec?.containers);
    return [
      int(obj.spec?.replicas),
      int(obj.status?.replicas),
      int(obj.status?.readyReplicas),
      age(obj, now),
      names,
      images,
      selectorCell(obj.spec?.selector),
    ];
  },
  fields: (obj) => ({ 'status.replicas': String(int(obj.status?.replicas)) }),
};

const DAEMONSET: Kind = {
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  categories: ['all'],
  appsVersions: ['v1', 'v1beta2'],
  extensions: true,
  scale: false,
  status: true,
  defaults: defaultDaemonSet,
  validate: validateDaemonSet,
  toV1: daemonSetToV1,
  fromV1: daemonSetFromV1,
  columns: [
    col('Desired', 'The total number of nodes that should be running the daemon pod.', { type: 'integer' }),
    col('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', { type: 'integer' }),
    col('Ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', { type: 'integer' }),
    col('Up-to-date', 'The total number of nodes that are running updated daemon pod', { type: 'integer' }),
    col('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.', { type: 'integer' }),
    col('Node Selector', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
    ageColumn(),
    containersColumn(),
    imagesColumn(),
    selectorColumn('A label query over pods that are managed by the daemon set.'),
  ],
  cells(obj, now) {
    const status: Json = obj.status ?? {};
    const [names, images] = containerCells(obj.spec?.template?.spec?.containers);
    return [
      int(status.desiredNumberScheduled),
      int(status.currentNumberScheduled),
      int(status.numberReady),
      int(status.updatedNumberScheduled),
      int(status.numberAvailable),
      formatLabels(obj.spec?.template?.spec?.nodeSelector),
      age(obj, now),
      names,
      images,
      selectorCell(obj.spec?.selector),
    ];
  },
};

const STATEFULSET: Kind = {
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  categories: ['all'],
  appsVersions: ['v1', 'v1beta2', 'v1beta1'],
  extensions: false,
  scale: true,
  status: true,
  defaults: defaultStatefulSet,
  validate: validateStatefulSet,
  columns: [col('Ready', 'Number of the pod with ready state'), ageColumn(), containersColumn(), imagesColumn()],
  cells(obj, now) {
    const [names, images] = containerCells(obj.spec?.template?.spec?.containers);
    return [`${int(obj.status?.readyReplicas)}/${int(obj.spec?.replicas)}`, age(obj, now), names, images];
  },
};

function controllerOf(obj: KubeObject): string {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  const kind = group ? `${ref.kind}.${group}` : ref.kind;
  return `${kind.toLowerCase()}/${ref.name}`;
}

const CONTROLLER_REVISION: Kind = {
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  appsVersions: ['v1', 'v1beta2', 'v1beta1'],
  extensions: false,
  scale: false,
  status: false,
  validate: validateControllerRevision,
  columns: [col('Controller', 'Controller of the object'), col('Revision', 'Revision indicates the revision of the state represented by Data.'), ageColumn()],
  cells: (obj, now) => [controllerOf(obj), obj.revision ?? 0, age(obj, now)],
};

function makeDef(k: Kind, group: 'apps' | 'extensions'): ResourceDef {
  const flavorOf = (version: string): Flavor => `${group}/${version}` as Flavor;
  const strategy: Strategy = {
    defaults: k.defaults ? (obj, version) => k.defaults?.(obj, flavorOf(version)) : undefined,
    validate: k.validate,
    prepareForCreate: k.status ? clearStatus : undefined,
    prepareForUpdate: k.status ? keepStatus : undefined,
    columns: k.columns,
    cells: k.cells,
    fields: k.fields,
  };
  const def: ResourceDef = {
    group,
    kind: k.kind,
    listKind: `${k.kind}List`,
    plural: k.plural,
    singular: k.singular,
    namespaced: true,
    versions: group === 'apps' ? k.appsVersions : ['v1beta1'],
    storageVersion: 'v1',
    subresources: {},
    strategy,
    convert: {
      toStorage: (obj, from) => (k.toV1 ? k.toV1(obj, flavorOf(from)) : obj),
      fromStorage: (obj, to) => (k.fromV1 ? k.fromV1(obj, flavorOf(to)) : obj),
    },
  };
  // The extensions views carry no short names or categories, so that `kubectl get deploy`
  // and `kubectl get all` resolve to apps only instead of listing each object twice.
  if (k.shortNames && group === 'apps') def.shortNames = k.shortNames;
  if (k.categories && group === 'apps') def.categories = k.categories;
  if (k.status) def.subresources.status = true;
  if (k.scale) def.subresources.scale = SCALE;
  if (group === 'extensions') def.storage = { group: 'apps', plural: k.plural };
  return def;
}

const KINDS = [DEPLOYMENT, REPLICASET, DAEMONSET, STATEFULSET, CONTROLLER_REVISION];

export function appsResources(): ResourceDef[] {
  return KINDS.map((k) => makeDef(k, 'apps'));
}

/** extensions/v1beta1 Deployment, ReplicaSet and DaemonSet: views of the apps/v1 objects. */
export function extensionsResources(): ResourceDef[] {
  return KINDS.filter((k) => k.extensions).map((k) => makeDef(k, 'extensions'));
}
