// Validation of apps/v1 workloads (storage version) with Kubernetes' messages.
import {
  child,
  deepEqual,
  fieldErrors,
  type GoLiteral,
  goLabelSelector,
  goQuote,
  goStringMap,
  validateNonnegative,
} from '../../api/field-errors.ts';
import { labelSelectorToRequirements, matchesSelector, validateLabelSelector } from '../../api/labels.ts';
import { regexError } from '../../api/names.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import type { Json } from './helpers.ts';
import { validatePodTemplate } from './pod-validation.ts';

const PERCENT_FMT = '[0-9]+%';

/** Go's %#v of an intstr.IntOrString. */
export function goIntOrString(v: number | string): GoLiteral {
  return typeof v === 'number'
    ? { goLiteral: `intstr.IntOrString{Type:0, IntVal:${v}, StrVal:""}` }
    : { goLiteral: `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}` };
}

function validateIntOrPercent(v: unknown, path: string): StatusCause[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') {
    return v < 0 ? [fieldErrors.invalid(path, goIntOrString(v), 'must be greater than or equal to 0')] : [];
  }
  if (typeof v !== 'string' || !/^[0-9]+%$/.test(v)) {
    return [fieldErrors.invalid(path, String(v), regexError("a valid percent string must be a numeric string followed by an ending '%'", PERCENT_FMT, '1%', '93%'))];
  }
  if (Number.parseInt(v, 10) > 100) return [fieldErrors.invalid(path, goIntOrString(v), 'must not be greater than 100%')];
  return [];
}

const isZero = (v: unknown) => v === 0 || v === '0%';

/**
 * Selector required, non-empty, valid and matching the template labels; template valid with
 * restartPolicy Always. `what` is the kind's word in "empty selector is invalid for <what>".
 */
export function validateSelectorAndTemplate(spec: Json, what: string, opts: { restartPolicies?: string[] } = {}): StatusCause[] {
  const causes: StatusCause[] = [];
  const selector = spec?.selector;
  const template = spec?.template;
  if (!selector) {
    causes.push(fieldErrors.required('spec.selector'));
  } else {
    causes.push(...validateLabelSelector(selector, 'spec.selector'));
    let reqs: ReturnType<typeof labelSelectorToRequirements>;
    try {
      reqs = labelSelectorToRequirements(selector);
    } catch {
      causes.push(fieldErrors.invalid('spec.selector', goLabelSelector(selector), 'invalid label selector'));
    }
    if (reqs && reqs.length === 0) {
      causes.push(fieldErrors.invalid('spec.selector', goLabelSelector(selector), `empty selector is invalid for ${what}`));
    } else if (reqs && !matchesSelector(reqs, template?.metadata?.labels ?? {})) {
      causes.push(
        fieldErrors.invalid('spec.template.metadata.labels', goStringMap(template?.metadata?.labels ?? {}), '`selector` does not match template `labels`'),
      );
    }
  }
  causes.push(...validatePodTemplate(template, 'spec.template', { restartPolicies: opts.restartPolicies ?? ['Always'] }));
  return causes;
}

function validateSelectorImmutable(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  if (!old || deepEqual(obj.spec?.selector, old.spec?.selector)) return [];
  return [fieldErrors.invalid('spec.selector', goLabelSelector(obj.spec?.selector), 'field is immutable')];
}

const DEPLOYMENT_STRATEGIES = ['Recreate', 'RollingUpdate'];

export function validateDeployment(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes: StatusCause[] = [
    ...validateNonnegative(spec.replicas, 'spec.replicas'),
    ...validateSelectorAndTemplate(spec, 'deployment'),
  ];
  const strategy: Json = spec.strategy ?? {};
  if (!strategy.type) causes.push(fieldErrors.required('spec.strategy.type'));
  else if (!DEPLOYMENT_STRATEGIES.includes(strategy.type)) {
    causes.push(fieldErrors.notSupported('spec.strategy.type', strategy.type, DEPLOYMENT_STRATEGIES));
  }
  if (strategy.type === 'Recreate' && strategy.rollingUpdate) {
    causes.push(fieldErrors.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  }
  const ru: Json = strategy.rollingUpdate;
  if (strategy.type === 'RollingUpdate' && ru) {
    const p = 'spec.strategy.rollingUpdate';
    causes.push(...validateIntOrPercent(ru.maxUnavailable, child(p, 'maxUnavailable')));
    causes.push(...validateIntOrPercent(ru.maxSurge, child(p, 'maxSurge')));
    if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
      causes.push(fieldErrors.invalid(child(p, 'maxUnavailable'), goIntOrString(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
    }
  }
  causes.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  causes.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (typeof spec.progressDeadlineSeconds === 'number') {
    causes.push(...validateNonnegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      causes.push(fieldErrors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  causes.push(...validateSelectorImmutable(obj, old));
  return causes;
}

export function validateReplicaSet(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  return [
    ...validateNonnegative(spec.replicas, 'spec.replicas'),
    ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    // Kubernetes' ReplicaSet validation says "deployment" here too.
    ...validateSelectorAndTemplate(spec, 'deployment'),
    ...validateSelectorImmutable(obj, old),
  ];
}

const DAEMONSET_STRATEGIES = ['OnDelete', 'RollingUpdate'];

export function validateDaemonSet(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes = [...validateSelectorAndTemplate(spec, 'daemonset'), ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds')];
  const strategy: Json = spec.updateStrategy ?? {};
  if (!strategy.type) causes.push(fieldErrors.required('spec.updateStrategy.type'));
  else if (!DAEMONSET_STRATEGIES.includes(strategy.type)) {
    causes.push(fieldErrors.notSupported('spec.updateStrategy.type', strategy.type, DAEMONSET_STRATEGIES));
  }
  if (strategy.type === 'RollingUpdate' && strategy.rollingUpdate) {
    const p = 'spec.updateStrategy.rollingUpdate';
    causes.push(...validateIntOrPercent(strategy.rollingUpdate.maxUnavailable, child(p, 'maxUnavailable')));
    causes.push(...validateIntOrPercent(strategy.rollingUpdate.maxSurge, child(p, 'maxSurge')));
    if (isZero(strategy.rollingUpdate.maxUnavailable) && isZero(strategy.rollingUpdate.maxSurge ?? 0)) {
      causes.push(
        fieldErrors.invalid(child(p, 'maxUnavailable'), goIntOrString(strategy.rollingUpdate.maxUnavailable), 'may not be 0 when `maxSurge` is 0'),
      );
    }
  }
  causes.push(...validateSelectorImmutable(obj, old));
  return causes;
}

const POD_MANAGEMENT_POLICIES = ['OrderedReady', 'Parallel'];
const STATEFULSET_STRATEGIES = ['OnDelete', 'RollingUpdate'];
const STATEFULSET_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export function validateStatefulSet(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes = [...validateNonnegative(spec.replicas, 'spec.replicas'), ...validateSelectorAndTemplate(spec, 'statefulset')];
  if (spec.podManagementPolicy && !POD_MANAGEMENT_POLICIES.includes(spec.podManagementPolicy)) {
    causes.push(fieldErrors.notSupported('spec.podManagementPolicy', spec.podManagementPolicy, POD_MANAGEMENT_POLICIES));
  }
  const strategy: Json = spec.updateStrategy ?? {};
  if (strategy.type && !STATEFULSET_STRATEGIES.includes(strategy.type)) {
    causes.push(fieldErrors.notSupported('spec.updateStrategy.type', strategy.type, STATEFULSET_STRATEGIES));
  }
  if (strategy.type === 'OnDelete' && strategy.rollingUpdate) {
    causes.push(fieldErrors.invalid('spec.updateStrategy.rollingUpdate', { goLiteral: '&apps.RollingUpdateStatefulSetStrategy{...}' }, "only allowed for updateStrategy 'RollingUpdate'"));
  }
  causes.push(...validateNonnegative(strategy.rollingUpdate?.partition, 'spec.updateStrategy.rollingUpdate.partition'));
  if (old) {
    const strip = (s: Json) => {
      const copy = { ...(s ?? {}) };
      for (const f of STATEFULSET_MUTABLE) delete copy[f];
      return copy;
    };
    if (!deepEqual(strip(spec), strip(old.spec))) {
      causes.push(
        fieldErrors.forbidden(
          'spec',
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
    }
  }
  return causes;
}

export function validateControllerRevision(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes = validateNonnegative(obj.revision, 'revision');
  if (old && !deepEqual(obj.data, old.data)) causes.push(fieldErrors.invalid('data', { goLiteral: 'runtime.RawExtension{...}' }, 'field is immutable'));
  return causes;
}
