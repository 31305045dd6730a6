// Per-version defaults and conversions of the apps workloads. apps/v1 is the
// storage version; apps/v1beta1, apps/v1beta2 and extensions/v1beta1 are
// served as views of the same objects, the way Kubernetes served them.
import type { KubeObject } from '../../api/types.ts';
import { copyJson, ensure, type Json, setDefault } from './helpers.ts';
import { defaultPodTemplate } from './pod-defaults.ts';

export type Flavor = 'apps/v1' | 'apps/v1beta2' | 'apps/v1beta1' | 'extensions/v1beta1';

/** revisionHistoryLimit of apps/v1 and v1beta2 workloads. */
const DEFAULT_REVISION_HISTORY = 10;
/** apps/v1beta1 Deployments kept fewer old ReplicaSets. */
const V1BETA1_DEPLOYMENT_REVISION_HISTORY = 2;
/** A Deployment without progress for this long is reported as failed. */
const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
/**
 * extensions/v1beta1 Deployments had no revision limit and no progress deadline. Kubernetes
 * spelled "unset" as MaxInt32 so that storage in apps/v1 does not pick up the apps/v1 defaults.
 */
export const MAX_INT32 = 2147483647;
/** Annotation that carries extensions|apps/v1beta1 spec.rollbackTo.revision through apps/v1 storage. */
export const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
/** Annotation that carries extensions/v1beta1 DaemonSet spec.templateGeneration through apps/v1 storage. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/** Old versions defaulted a missing selector (and missing object labels) from the template's labels. */
function selectorFromTemplate(obj: KubeObject): void {
  const labels = obj.spec?.template?.metadata?.labels;
  if (!labels || typeof labels !== 'object') return;
  if (!obj.spec.selector) obj.spec.selector = { matchLabels: copyJson(labels) };
  if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0) obj.metadata.labels = copyJson(labels);
}

const oldStyle = (f: Flavor) => f === 'apps/v1beta1' || f === 'extensions/v1beta1';

export function defaultDeployment(obj: KubeObject, flavor: Flavor): void {
  const spec: Json = ensure(obj, 'spec');
  if (oldStyle(flavor)) selectorFromTemplate(obj);
  setDefault(spec, 'replicas', 1);
  const strategy: Json = ensure(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  const extensions = flavor === 'extensions/v1beta1';
  if (strategy.type === 'RollingUpdate' || (extensions && strategy.rollingUpdate)) {
    const ru: Json = ensure(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', extensions ? 1 : '25%');
    setDefault(ru, 'maxSurge', extensions ? 1 : '25%');
  }
  if (extensions) {
    setDefault(spec, 'revisionHistoryLimit', MAX_INT32);
    setDefault(spec, 'progressDeadlineSeconds', MAX_INT32);
  } else {
    setDefault(spec, 'revisionHistoryLimit', flavor === 'apps/v1beta1' ? V1BETA1_DEPLOYMENT_REVISION_HISTORY : DEFAULT_REVISION_HISTORY);
    setDefault(spec, 'progressDeadlineSeconds', DEFAULT_PROGRESS_DEADLINE_SECONDS);
  }
  defaultPodTemplate(spec.template);
}

export function defaultReplicaSet(obj: KubeObject, flavor: Flavor): void {
  const spec: Json = ensure(obj, 'spec');
  if (flavor === 'extensions/v1beta1') selectorFromTemplate(obj);
  setDefault(spec, 'replicas', 1);
  defaultPodTemplate(spec.template);
}

export function defaultDaemonSet(obj: KubeObject, flavor: Flavor): void {
  const spec: Json = ensure(obj, 'spec');
  const extensions = flavor === 'extensions/v1beta1';
  if (extensions) selectorFromTemplate(obj);
  const strategy: Json = ensure(spec, 'updateStrategy');
  setDefault(strategy, 'type', extensions ? 'OnDelete' : 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru: Json = ensure(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', DEFAULT_REVISION_HISTORY);
  defaultPodTemplate(spec.template);
}

export function defaultStatefulSet(obj: KubeObject, flavor: Flavor): void {
  const spec: Json = ensure(obj, 'spec');
  const v1beta1 = flavor === 'apps/v1beta1';
  if (v1beta1) selectorFromTemplate(obj);
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy: Json = ensure(spec, 'updateStrategy');
  setDefault(strategy, 'type', v1beta1 ? 'OnDelete' : 'RollingUpdate');
  if (strategy.type === 'RollingUpdate' && !v1beta1) setDefault(ensure(strategy, 'rollingUpdate'), 'partition', 0);
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', DEFAULT_REVISION_HISTORY);
  const retention: Json = ensure(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  defaultPodTemplate(spec.template);
}

// ---- conversion -------------------------------------------------------------

/** Old Deployment → apps/v1: spec.rollbackTo travels as an annotation. */
export function deploymentToV1(obj: KubeObject, flavor: Flavor): KubeObject {
  const out = copyJson(obj);
  if (!oldStyle(flavor)) return out;
  const annotations = { ...(out.metadata.annotations ?? {}) };
  const revision = out.spec?.rollbackTo?.revision;
  if (out.spec?.rollbackTo) annotations[ROLLBACK_TO_ANNOTATION] = String(revision ?? 0);
  else delete annotations[ROLLBACK_TO_ANNOTATION];
  if (out.spec) delete out.spec.rollbackTo;
  setAnnotations(out, annotations);
  return out;
}

/** apps/v1 Deployment → old version: the annotation becomes spec.rollbackTo again. */
export function deploymentFromV1(obj: KubeObject, flavor: Flavor): KubeObject {
  const out = copyJson(obj);
  if (!oldStyle(flavor)) return out;
  const annotations = { ...(out.metadata.annotations ?? {}) };
  const revision = annotations[ROLLBACK_TO_ANNOTATION];
  if (revision) {
    out.spec = { ...(out.spec ?? {}), rollbackTo: { revision: Number.parseInt(revision, 10) } };
  }
  delete annotations[ROLLBACK_TO_ANNOTATION];
  setAnnotations(out, annotations);
  return out;
}

/** extensions/v1beta1 DaemonSet → apps/v1: spec.templateGeneration travels as an annotation. */
export function daemonSetToV1(obj: KubeObject, flavor: Flavor): KubeObject {
  const out = copyJson(obj);
  if (flavor !== 'extensions/v1beta1') return out;
  const annotations = { ...(out.metadata.annotations ?? {}) };
  annotations[TEMPLATE_GENERATION_ANNOTATION] = String(out.spec?.templateGeneration ?? 0);
  if (out.spec) delete out.spec.templateGeneration;
  setAnnotations(out, annotations);
  return out;
}

export function daemonSetFromV1(obj: KubeObject, flavor: Flavor): KubeObject {
  const out = copyJson(obj);
  if (flavor !== 'extensions/v1beta1') return out;
  const annotations = { ...(out.metadata.annotations ?? {}) };
  const value = annotations[TEMPLATE_GENERATION_ANNOTATION];
  if (value !== undefined) {
    out.spec = { ...(out.spec ?? {}), templateGeneration: Number.parseInt(value, 10) };
    delete annotations[TEMPLATE_GENERATION_ANNOTATION];
  }
  setAnnotations(out, annotations);
  return out;
}

function setAnnotations(obj: KubeObject, annotations: Record<string, string>): void {
  if (Object.keys(annotations).length === 0) delete obj.metadata.annotations;
  else obj.metadata.annotations = annotations;
}
