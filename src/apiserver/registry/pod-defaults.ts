// Defaults of core/v1 pod specs (SetDefaults_PodSpec, _Container, _Probe,
// _Volume...), used by pods and by every workload's pod template.
import { ensure, type Json, setDefault } from './helpers.ts';

/** Kubernetes' DefaultTerminationGracePeriodSeconds. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;
/** Files in secret/configMap/downwardAPI/projected volumes default to 0644. */
export const DEFAULT_VOLUME_MODE = 0o644;
export const DEFAULT_SCHEDULER = 'default-scheduler';
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** imagePullPolicy default: Always for `:latest` or no tag, IfNotPresent otherwise (digests included). */
export function defaultPullPolicy(image: string | undefined): string {
  if (!image) return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const lastColon = image.lastIndexOf(':');
  const tag = lastColon > lastSlash ? image.slice(lastColon + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: Json): void {
  if (!probe || typeof probe !== 'object') return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  if (probe.httpGet) {
    setDefault(probe.httpGet, 'path', '/');
    setDefault(probe.httpGet, 'scheme', 'HTTP');
  }
  if (probe.grpc) setDefault(probe.grpc, 'service', '');
}

function defaultHandler(handler: Json): void {
  if (handler?.httpGet) {
    setDefault(handler.httpGet, 'path', '/');
    setDefault(handler.httpGet, 'scheme', 'HTTP');
  }
}

export function defaultContainer(c: Json, opts: { hostNetwork: boolean }): void {
  if (!c || typeof c !== 'object') return;
  setDefault(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  setDefault(c, 'terminationMessagePath', TERMINATION_MESSAGE_PATH);
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  for (const p of Array.isArray(c.ports) ? c.ports : []) {
    setDefault(p, 'protocol', 'TCP');
    if (opts.hostNetwork && p.hostPort === undefined && p.containerPort !== undefined) p.hostPort = p.containerPort;
  }
  for (const e of Array.isArray(c.env) ? c.env : []) {
    if (e?.valueFrom?.fieldRef) setDefault(e.valueFrom.fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultHandler(c.lifecycle?.postStart);
  defaultHandler(c.lifecycle?.preStop);
  // Requests default to limits for resources with a limit and no request (SetDefaults_Pod).
  const limits = c.resources?.limits;
  if (limits && typeof limits === 'object') {
    const requests = ensure(c.resources, 'requests');
    for (const [name, value] of Object.entries(limits)) setDefault(requests, name, value);
  }
}

function defaultVolume(v: Json): void {
  if (!v || typeof v !== 'object') return;
  const hasSource = Object.keys(v).some((k) => k !== 'name');
  if (!hasSource) v.emptyDir = {};
  if (v.secret) setDefault(v.secret, 'defaultMode', DEFAULT_VOLUME_MODE);
  if (v.configMap) setDefault(v.configMap, 'defaultMode', DEFAULT_VOLUME_MODE);
  if (v.downwardAPI) {
    setDefault(v.downwardAPI, 'defaultMode', DEFAULT_VOLUME_MODE);
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef) setDefault(item.fieldRef, 'apiVersion', 'v1');
  }
  if (v.projected) setDefault(v.projected, 'defaultMode', DEFAULT_VOLUME_MODE);
  if (v.hostPath) setDefault(v.hostPath, 'type', '');
}

/** SetDefaults_PodSpec plus the container/volume defaults below it. */
export function defaultPodSpec(spec: Json): void {
  if (!spec || typeof spec !== 'object') return;
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', DEFAULT_TERMINATION_GRACE_SECONDS);
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', DEFAULT_SCHEDULER);
  setDefault(spec, 'enableServiceLinks', true);
  // The deprecated serviceAccount field mirrors serviceAccountName.
  if (spec.serviceAccountName === undefined && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName && spec.serviceAccount === undefined) spec.serviceAccount = spec.serviceAccountName;
  const hostNetwork = spec.hostNetwork === true;
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of Array.isArray(spec[list]) ? spec[list] : []) defaultContainer(c, { hostNetwork });
  }
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) defaultVolume(v);
}

/** Pod template specs in workloads get the same defaults as pods. */
export function defaultPodTemplate(template: Json): void {
  if (!template || typeof template !== 'object') return;
  defaultPodSpec(template.spec);
}
