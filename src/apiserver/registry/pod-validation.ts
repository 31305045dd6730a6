// Validation of core/v1 pod specs with Kubernetes' messages, for pods and
// for workloads' pod templates (the most important fields, not all of them).
import { child, deepEqual, fieldErrors, index, key, notFound } from '../../api/field-errors.ts';
import { validateLabels } from '../../api/labels.ts';
import { isDNS1123Label, isDNS1123Subdomain, isValidPortName, isValidPortNum } from '../../api/names.ts';
import { parseQuantity } from '../../api/quantity.ts';
import type { StatusCause } from '../../api/types.ts';
import type { Json } from './helpers.ts';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
export const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];

function validatePorts(ports: Json[] | undefined, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  (ports ?? []).forEach((p, i) => {
    const pp = index(path, i);
    if (p.name) {
      for (const msg of isValidPortName(p.name)) causes.push(fieldErrors.invalid(child(pp, 'name'), p.name, msg));
      if (names.has(p.name)) causes.push(fieldErrors.duplicate(child(pp, 'name'), p.name));
      names.add(p.name);
    }
    if (p.containerPort === undefined || p.containerPort === 0) causes.push(fieldErrors.required(child(pp, 'containerPort')));
    else for (const msg of isValidPortNum(p.containerPort)) causes.push(fieldErrors.invalid(child(pp, 'containerPort'), p.containerPort, msg));
    if (p.hostPort !== undefined && p.hostPort !== 0) {
      for (const msg of isValidPortNum(p.hostPort)) causes.push(fieldErrors.invalid(child(pp, 'hostPort'), p.hostPort, msg));
    }
    if (!p.protocol) causes.push(fieldErrors.required(child(pp, 'protocol')));
    else if (!PROTOCOLS.includes(p.protocol)) causes.push(fieldErrors.notSupported(child(pp, 'protocol'), p.protocol, PROTOCOLS));
  });
  return causes;
}

function validateResources(res: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!res) return causes;
  for (const kind of ['limits', 'requests']) {
    for (const [name, value] of Object.entries(res[kind] ?? {})) {
      if (parseQuantity(value as string) === undefined) {
        causes.push(fieldErrors.invalid(key(child(path, kind), name), String(value), 'must be a valid quantity'));
      } else if ((parseQuantity(value as string) as number) < 0) {
        causes.push(fieldErrors.invalid(key(child(path, kind), name), String(value), 'must be greater than or equal to 0'));
      }
    }
  }
  for (const [name, request] of Object.entries(res.requests ?? {})) {
    const limit = res.limits?.[name];
    if (limit === undefined) continue;
    const r = parseQuantity(request as string);
    const l = parseQuantity(limit as string);
    if (r !== undefined && l !== undefined && r > l) {
      causes.push(
        fieldErrors.invalid(key(child(path, 'requests'), name), String(request), `must be less than or equal to ${name} limit of ${limit}`),
      );
    }
  }
  return causes;
}

function validateContainer(c: Json, path: string, volumes: Set<string>): StatusCause[] {
  const causes: StatusCause[] = [];
  if (typeof c.image !== 'string' || c.image === '') causes.push(fieldErrors.required(child(path, 'image')));
  else if (c.image.trim() !== c.image) {
    causes.push(fieldErrors.invalid(child(path, 'image'), c.image, 'must not have leading or trailing whitespace'));
  }
  if (!c.imagePullPolicy) causes.push(fieldErrors.required(child(path, 'imagePullPolicy')));
  else if (!PULL_POLICIES.includes(c.imagePullPolicy)) {
    causes.push(fieldErrors.notSupported(child(path, 'imagePullPolicy'), c.imagePullPolicy, PULL_POLICIES));
  }
  if (c.terminationMessagePolicy && !TERMINATION_MESSAGE_POLICIES.includes(c.terminationMessagePolicy)) {
    causes.push(fieldErrors.notSupported(child(path, 'terminationMessagePolicy'), c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES));
  }
  causes.push(...validatePorts(c.ports, child(path, 'ports')));
  (c.env ?? []).forEach((e: Json, i: number) => {
    if (!e?.name) causes.push(fieldErrors.required(child(index(child(path, 'env'), i), 'name')));
  });
  (c.volumeMounts ?? []).forEach((m: Json, i: number) => {
    const mp = index(child(path, 'volumeMounts'), i);
    if (!m?.name) causes.push(fieldErrors.required(child(mp, 'name')));
    else if (!volumes.has(m.name)) causes.push(notFound(child(mp, 'name'), m.name));
    if (!m?.mountPath) causes.push(fieldErrors.required(child(mp, 'mountPath')));
  });
  causes.push(...validateResources(c.resources, child(path, 'resources')));
  return causes;
}

function validateVolumes(volumes: Json[] | undefined, path: string): { causes: StatusCause[]; names: Set<string> } {
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  (volumes ?? []).forEach((v, i) => {
    const np = child(index(path, i), 'name');
    if (!v?.name) causes.push(fieldErrors.required(np));
    else {
      for (const msg of isDNS1123Label(v.name)) causes.push(fieldErrors.invalid(np, v.name, msg));
      if (names.has(v.name)) causes.push(fieldErrors.duplicate(np, v.name));
      names.add(v.name);
    }
  });
  return { causes, names };
}

export type PodSpecOptions = {
  /** Restart policies allowed here (Deployments only allow Always, Jobs OnFailure/Never). */
  restartPolicies?: string[];
};

/** ValidatePodSpec (main parts). `path` is e.g. "spec" or "spec.template.spec". */
export function validatePodSpec(spec: Json, path: string, opts: PodSpecOptions = {}): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!spec || typeof spec !== 'object') return [fieldErrors.required(child(path, 'containers'))];
  const vols = validateVolumes(spec.volumes, child(path, 'volumes'));
  causes.push(...vols.causes);
  const seen = new Set<string>();
  const checkList = (listName: string, required: boolean) => {
    const list = spec[listName];
    const lp = child(path, listName);
    if (!Array.isArray(list) || list.length === 0) {
      if (required) causes.push(fieldErrors.required(lp));
      return;
    }
    list.forEach((c: Json, i: number) => {
      const cp = index(lp, i);
      const np = child(cp, 'name');
      if (!c?.name) causes.push(fieldErrors.required(np));
      else {
        for (const msg of isDNS1123Label(c.name)) causes.push(fieldErrors.invalid(np, c.name, msg));
        if (seen.has(c.name)) causes.push(fieldErrors.duplicate(np, c.name));
        seen.add(c.name);
      }
      causes.push(...validateContainer(c ?? {}, cp, vols.names));
    });
  };
  checkList('initContainers', false);
  checkList('containers', true);

  const allowed = opts.restartPolicies ?? RESTART_POLICIES;
  if (!spec.restartPolicy) causes.push(fieldErrors.required(child(path, 'restartPolicy')));
  else if (!allowed.includes(spec.restartPolicy)) {
    causes.push(fieldErrors.notSupported(child(path, 'restartPolicy'), spec.restartPolicy, allowed));
  }
  if (!spec.dnsPolicy) causes.push(fieldErrors.required(child(path, 'dnsPolicy')));
  else if (!DNS_POLICIES.includes(spec.dnsPolicy)) causes.push(fieldErrors.notSupported(child(path, 'dnsPolicy'), spec.dnsPolicy, DNS_POLICIES));
  causes.push(...validateLabels(spec.nodeSelector, child(path, 'nodeSelector')));
  if (spec.hostname) for (const msg of isDNS1123Label(spec.hostname)) causes.push(fieldErrors.invalid(child(path, 'hostname'), spec.hostname, msg));
  if (spec.subdomain) for (const msg of isDNS1123Label(spec.subdomain)) causes.push(fieldErrors.invalid(child(path, 'subdomain'), spec.subdomain, msg));
  if (spec.serviceAccountName) {
    for (const msg of isDNS1123Subdomain(spec.serviceAccountName)) {
      causes.push(fieldErrors.invalid(child(path, 'serviceAccountName'), spec.serviceAccountName, msg));
    }
  }
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0) {
    causes.push(fieldErrors.invalid(child(path, 'activeDeadlineSeconds'), spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  return causes;
}

/** A workload's pod template: labels valid and the spec valid. */
export function validatePodTemplate(template: Json, path: string, opts: PodSpecOptions = {}): StatusCause[] {
  if (!template || typeof template !== 'object') return [fieldErrors.required(path)];
  return [
    ...validateLabels(template.metadata?.labels, child(child(path, 'metadata'), 'labels')),
    ...validatePodSpec(template.spec, child(path, 'spec'), opts),
  ];
}

const UPDATABLE_POD_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** Blanks what a pod update may change, so the rest can be compared. */
function mungeForUpdate(spec: Json, old: Json): Json {
  const copy = structuredClone(spec ?? {});
  for (const list of ['containers', 'initContainers']) {
    (copy[list] ?? []).forEach((c: Json, i: number) => {
      const o = old?.[list]?.[i];
      if (o && c) c.image = o.image;
    });
  }
  copy.activeDeadlineSeconds = old?.activeDeadlineSeconds;
  copy.terminationGracePeriodSeconds = old?.terminationGracePeriodSeconds;
  const oldTolerations: Json[] = old?.tolerations ?? [];
  const newTolerations: Json[] = copy.tolerations ?? [];
  const keepsOld = oldTolerations.every((t) => newTolerations.some((n) => deepEqual(n, t)));
  if (keepsOld) copy.tolerations = old?.tolerations;
  if (Array.isArray(copy.schedulingGates) && copy.schedulingGates.length < (old?.schedulingGates ?? []).length) {
    copy.schedulingGates = old?.schedulingGates;
  }
  return copy;
}

/** ValidatePodUpdate's spec rule: only images, deadlines, grace period and added tolerations change. */
export function validatePodSpecUpdate(spec: Json, old: Json): StatusCause[] {
  const causes: StatusCause[] = [];
  const munged = mungeForUpdate(spec, old);
  if (!deepEqual(munged, old ?? {})) {
    const changed = Object.keys({ ...munged, ...(old ?? {}) })
      .filter((k) => !deepEqual(munged[k], old?.[k]))
      .sort();
    causes.push(
      fieldErrors.forbidden(
        'spec',
        `pod updates may not change fields other than ${UPDATABLE_POD_FIELDS.join(',')}\n  changed: ${changed.map((k) => `spec.${k}`).join(', ')}`,
      ),
    );
  }
  const oldActive = old?.activeDeadlineSeconds;
  if (typeof oldActive === 'number' && (spec?.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds > oldActive)) {
    causes.push(
      fieldErrors.invalid('spec.activeDeadlineSeconds', spec?.activeDeadlineSeconds ?? null, 'must be less than or equal to previous value'),
    );
  }
  return causes;
}
