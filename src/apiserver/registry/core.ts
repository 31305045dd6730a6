// core/v1 pods, namespaces, nodes and service accounts.
import { child, fieldErrors, index } from '../../api/field-errors.ts';
import { isQualifiedName, nameRules } from '../../api/names.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { age, ageColumn, col, copyJson, type Json, keepStatus } from './helpers.ts';
import { defaultPodSpec } from './pod-defaults.ts';
import { podCells, podColumns, podQOSClass } from './pod-table.ts';
import { validatePodSpec, validatePodSpecUpdate } from './pod-validation.ts';
import { addServiceAccountTokenVolume } from './serviceaccount-volume.ts';
import type { ResourceDef } from './types.ts';

/** Tolerations the DefaultTolerationSeconds admission plugin adds: 300 s before eviction from a failing node. */
const DEFAULT_TOLERATION_SECONDS = 300;
const DEFAULT_TOLERATION_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

function addAdmissionDefaults(spec: Json): void {
  // ServiceAccount admission: pods run as "default" unless told otherwise.
  if (!spec.serviceAccountName) spec.serviceAccountName = 'default';
  spec.serviceAccount = spec.serviceAccountName;
  addServiceAccountTokenVolume(spec);
  // Priority admission without a PriorityClass: priority 0.
  if (spec.priority === undefined && !spec.priorityClassName) spec.priority = 0;
  if (spec.preemptionPolicy === undefined) spec.preemptionPolicy = 'PreemptLowerPriority';
  const tolerations: Json[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  for (const taint of DEFAULT_TOLERATION_TAINTS) {
    const covered = tolerations.some(
      (t) => (t.key === taint || (t.key === undefined && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'),
    );
    if (!covered) {
      tolerations.push({ key: taint, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
    }
  }
  spec.tolerations = tolerations;
}

export const pods: ResourceDef = {
  group: '',
  kind: 'Pod',
  listKind: 'PodList',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { status: true, other: ['binding', 'log', 'exec', 'attach', 'portforward', 'proxy', 'eviction'] },
  strategy: {
    defaults(obj) {
      obj.spec ??= {};
      defaultPodSpec(obj.spec);
    },
    validate(obj, old) {
      const causes = validatePodSpec(obj.spec, 'spec');
      if (old) causes.push(...validatePodSpecUpdate(obj.spec, old.spec));
      return causes;
    },
    prepareForCreate(obj) {
      obj.spec ??= {};
      addAdmissionDefaults(obj.spec);
      obj.status = { phase: 'Pending', qosClass: podQOSClass(obj.spec) };
    },
    prepareForUpdate: keepStatus,
    columns: podColumns,
    cells: podCells,
    fields(obj) {
      const spec: Json = obj.spec ?? {};
      const status: Json = obj.status ?? {};
      return {
        'spec.nodeName': spec.nodeName ?? '',
        'spec.restartPolicy': spec.restartPolicy ?? '',
        'spec.schedulerName': spec.schedulerName ?? '',
        'spec.serviceAccountName': spec.serviceAccountName ?? '',
        'spec.hostNetwork': String(spec.hostNetwork === true),
        'status.phase': status.phase ?? '',
        'status.podIP': status.podIPs?.[0]?.ip ?? status.podIP ?? '',
        'status.nominatedNodeName': status.nominatedNodeName ?? '',
      };
    },
  },
};

/** Label every namespace carries with its own name (NamespaceDefaultLabelName). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

function labelNamespace(obj: KubeObject): void {
  if (!obj.metadata.name) return;
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: obj.metadata.name };
}

export const namespaces: ResourceDef = {
  group: '',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { status: true, other: ['finalize'] },
  strategy: {
    nameRule: nameRules.dns1123Label,
    defaults: labelNamespace,
    validate(obj) {
      const causes: StatusCause[] = [];
      (obj.spec?.finalizers ?? []).forEach((f: string) => {
        const path = 'spec.finalizers';
        const errs = isQualifiedName(f);
        for (const msg of errs) causes.push(fieldErrors.invalid(path, f, msg));
        if (errs.length === 0 && !f.includes('/') && !STANDARD_FINALIZERS.includes(f)) {
          causes.push(fieldErrors.invalid(path, f, 'name is neither a standard finalizer name nor is it fully qualified'));
        }
      });
      return causes;
    },
    prepareForCreate(obj) {
      labelNamespace(obj);
      const finalizers: string[] = obj.spec?.finalizers ?? [];
      obj.spec = { ...(obj.spec ?? {}), finalizers: finalizers.includes('kubernetes') ? finalizers : [...finalizers, 'kubernetes'] };
      obj.status = { phase: 'Active' };
    },
    prepareForUpdate(obj, old) {
      labelNamespace(obj);
      obj.spec = { ...(obj.spec ?? {}), finalizers: copyJson(old.spec?.finalizers ?? []) };
      keepStatus(obj, old);
    },
    columns: [col('Status', 'The status of the namespace'), ageColumn()],
    cells: (obj, now) => [obj.status?.phase ?? '', age(obj, now)],
    fields: (obj) => ({ 'status.phase': obj.status?.phase ?? '' }),
  },
};

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX) && k.length > NODE_ROLE_PREFIX.length) roles.add(k.slice(NODE_ROLE_PREFIX.length));
    else if (k === NODE_ROLE_LABEL && v !== '') roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function nodeAddress(node: KubeObject, type: string): string {
  return (node.status?.addresses ?? []).find((a: Json) => a.type === type)?.address ?? '<none>';
}

export const nodes: ResourceDef = {
  group: '',
  kind: 'Node',
  listKind: 'NodeList',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { status: true, other: ['proxy'] },
  strategy: {
    defaults(obj) {
      const status = obj.status;
      if (status?.capacity && status.allocatable === undefined) status.allocatable = copyJson(status.capacity);
    },
    validate(obj) {
      const causes: StatusCause[] = [];
      (obj.spec?.taints ?? []).forEach((t: Json, i: number) => {
        const p = index('spec.taints', i);
        for (const msg of isQualifiedName(t.key ?? '')) causes.push(fieldErrors.invalid(child(p, 'key'), t.key ?? '', msg));
        if (!t.effect) causes.push(fieldErrors.required(child(p, 'effect')));
        else if (!TAINT_EFFECTS.includes(t.effect)) causes.push(fieldErrors.notSupported(child(p, 'effect'), t.effect, TAINT_EFFECTS));
      });
      return causes;
    },
    prepareForUpdate: keepStatus,
    columns: [
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      ageColumn(),
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node.', { wide: true }),
      col('External-IP', 'List of addresses reachable to the node.', { wide: true }),
      col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', { wide: true }),
      col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", { wide: true }),
      col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', { wide: true }),
    ],
    cells(obj, now) {
      const ready = (obj.status?.conditions ?? []).find((c: Json) => c.type === 'Ready');
      const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
      if (obj.spec?.unschedulable) status.push('SchedulingDisabled');
      const info: Json = obj.status?.nodeInfo ?? {};
      return [
        status.join(','),
        nodeRoles(obj),
        age(obj, now),
        info.kubeletVersion ?? '',
        nodeAddress(obj, 'InternalIP'),
        nodeAddress(obj, 'ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ];
    },
    fields: (obj) => ({ 'spec.unschedulable': String(obj.spec?.unschedulable === true) }),
  },
};

export const serviceAccounts: ResourceDef = {
  group: '',
  kind: 'ServiceAccount',
  listKind: 'ServiceAccountList',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { other: ['token'] },
  strategy: {
    validate(obj) {
      const causes: StatusCause[] = [];
      (obj.secrets ?? []).forEach((s: Json, i: number) => {
        if (!s?.name) causes.push(fieldErrors.required(child(index('secrets', i), 'name')));
      });
      return causes;
    },
    columns: [col('Secrets', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageColumn()],
    cells: (obj, now) => [(obj.secrets ?? []).length, age(obj, now)],
  },
};

