// core/v1 services and endpoints.
import { isIPv6 } from 'node:net';
import { child, fieldErrors, goStringSlice, index } from '../../api/field-errors.ts';
import { formatLabels, validateLabels } from '../../api/labels.ts';
import { isDNS1123Label, isDNS1123Subdomain, isValidPortName, isValidPortNum, nameRules } from '../../api/names.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { age, ageColumn, col, copyJson, type Json, keepStatus, setDefault } from './helpers.ts';
import { PROTOCOLS } from './pod-validation.ts';
import type { ResourceDef } from './types.ts';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
/** Legacy, comma-separated form of spec.loadBalancerSourceRanges. */
const LB_SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';
const ONLY_LOAD_BALANCER = "may only be used when `type` is 'LoadBalancer'";
const INVALID_CIDR = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';
/** Kubernetes' DefaultClientIPServiceAffinitySeconds: 3 hours. */
const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

function defaultService(obj: KubeObject): void {
  obj.spec ??= {};
  const spec: Json = obj.spec;
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'ClientIP') {
    spec.sessionAffinityConfig ??= {};
    spec.sessionAffinityConfig.clientIP ??= {};
    setDefault(spec.sessionAffinityConfig.clientIP, 'timeoutSeconds', DEFAULT_CLIENT_IP_AFFINITY_SECONDS);
  }
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    setDefault(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  if (spec.type !== 'ExternalName') setDefault(spec, 'internalTrafficPolicy', 'Cluster');
}

function validateServicePorts(spec: Json): StatusCause[] {
  const causes: StatusCause[] = [];
  const ports: Json[] = Array.isArray(spec.ports) ? spec.ports : [];
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') causes.push(fieldErrors.required('spec.ports'));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const pp = index('spec.ports', i);
    if (!p.name) {
      if (ports.length > 1) causes.push(fieldErrors.required(child(pp, 'name')));
    } else {
      for (const msg of isDNS1123Label(p.name)) causes.push(fieldErrors.invalid(child(pp, 'name'), p.name, msg));
      if (names.has(p.name)) causes.push(fieldErrors.duplicate(child(pp, 'name'), p.name));
      names.add(p.name);
    }
    for (const msg of isValidPortNum(p.port)) causes.push(fieldErrors.invalid(child(pp, 'port'), p.port ?? 0, msg));
    if (!p.protocol) causes.push(fieldErrors.required(child(pp, 'protocol')));
    else if (!PROTOCOLS.includes(p.protocol)) causes.push(fieldErrors.notSupported(child(pp, 'protocol'), p.protocol, PROTOCOLS));
    if (typeof p.targetPort === 'number') {
      for (const msg of isValidPortNum(p.targetPort)) causes.push(fieldErrors.invalid(child(pp, 'targetPort'), p.targetPort, msg));
    } else if (typeof p.targetPort === 'string') {
      for (const msg of isValidPortName(p.targetPort)) causes.push(fieldErrors.invalid(child(pp, 'targetPort'), p.targetPort, msg));
    }
    if (p.nodePort && spec.type === 'ClusterIP') {
      causes.push(fieldErrors.forbidden(child(pp, 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
    } else if (p.nodePort) {
      for (const msg of isValidPortNum(p.nodePort)) causes.push(fieldErrors.invalid(child(pp, 'nodePort'), p.nodePort, msg));
    }
  });
  return causes;
}

const SLOPPY_IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** A CIDR as Kubernetes 1.32 accepts it (ParseCIDRSloppy: leading zeros and host bits allowed). */
function isValidCidr(value: string): boolean {
  const [addr, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  if (SLOPPY_IPV4.test(addr)) return addr.split('.').every((o) => Number(o) <= 255) && Number(prefix) <= 32;
  return isIPv6(addr) && !addr.includes('%') && Number(prefix) <= 128;
}

/**
 * spec.loadBalancerSourceRanges, else the legacy annotation (Kubernetes'
 * ValidateService, including its capitalised field path): only for type
 * LoadBalancer, every entry a CIDR (space padding tolerated).
 */
function validateSourceRanges(obj: KubeObject): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes: StatusCause[] = [];
  const ranges: unknown[] = Array.isArray(spec.loadBalancerSourceRanges) ? spec.loadBalancerSourceRanges : [];
  const annotation = obj.metadata.annotations?.[LB_SOURCE_RANGES_ANNOTATION];
  if (ranges.length > 0) {
    const path = 'spec.LoadBalancerSourceRanges';
    if (spec.type !== 'LoadBalancer') causes.push(fieldErrors.forbidden(path, ONLY_LOAD_BALANCER));
    ranges.forEach((r, i) => {
      const value = String(r).trim();
      if (!isValidCidr(value)) causes.push(fieldErrors.invalid(index(path, i), value, INVALID_CIDR));
    });
  } else if (annotation !== undefined) {
    const path = `metadata.annotations[${LB_SOURCE_RANGES_ANNOTATION}]`;
    if (spec.type !== 'LoadBalancer') causes.push(fieldErrors.forbidden(path, ONLY_LOAD_BALANCER));
    const trimmed = annotation.trim();
    for (const part of trimmed ? trimmed.split(',') : []) {
      const value = part.trim();
      if (!isValidCidr(value)) causes.push(fieldErrors.invalid(path, value, INVALID_CIDR));
    }
  }
  return causes;
}

function validateService(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes: StatusCause[] = [];
  if (!spec.type) causes.push(fieldErrors.required('spec.type'));
  else if (!SERVICE_TYPES.includes(spec.type)) causes.push(fieldErrors.notSupported('spec.type', spec.type, SERVICE_TYPES));
  if (spec.type === 'ExternalName') {
    if (!spec.externalName) causes.push(fieldErrors.required('spec.externalName'));
    else for (const msg of isDNS1123Subdomain(spec.externalName.replace(/\.$/, ''))) causes.push(fieldErrors.invalid('spec.externalName', spec.externalName, msg));
  }
  causes.push(...validateServicePorts(spec));
  causes.push(...validateLabels(spec.selector, 'spec.selector'));
  if (spec.sessionAffinity && !SESSION_AFFINITIES.includes(spec.sessionAffinity)) {
    causes.push(fieldErrors.notSupported('spec.sessionAffinity', spec.sessionAffinity, SESSION_AFFINITIES));
  }
  for (const f of ['externalTrafficPolicy', 'internalTrafficPolicy']) {
    if (spec[f] && !TRAFFIC_POLICIES.includes(spec[f])) causes.push(fieldErrors.notSupported(`spec.${f}`, spec[f], TRAFFIC_POLICIES));
  }
  causes.push(...validateSourceRanges(obj));
  if (old?.spec?.clusterIP && old.spec.clusterIP !== 'None' && spec.type !== 'ExternalName' && old.spec.type !== 'ExternalName') {
    if ((spec.clusterIPs ?? [spec.clusterIP])[0] !== old.spec.clusterIP) {
      causes.push(fieldErrors.invalid('spec.clusterIPs[0]', goStringSlice(spec.clusterIPs ?? []), 'may not change once set'));
    }
  }
  return causes;
}

/** A PUT without server-allocated values keeps them (Kubernetes' patchAllocatedValues). */
function keepAllocated(obj: KubeObject, old: KubeObject): void {
  obj.spec ??= {};
  const spec: Json = obj.spec;
  const was: Json = old.spec ?? {};
  if (spec.type !== 'ExternalName' && was.type !== 'ExternalName') {
    if (!spec.clusterIP && was.clusterIP) spec.clusterIP = was.clusterIP;
    if (!spec.clusterIPs && was.clusterIPs) spec.clusterIPs = copyJson(was.clusterIPs);
    if (!spec.ipFamilies && was.ipFamilies) spec.ipFamilies = copyJson(was.ipFamilies);
    if (!spec.ipFamilyPolicy && was.ipFamilyPolicy) spec.ipFamilyPolicy = was.ipFamilyPolicy;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const match = (was.ports ?? []).find((o: Json) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (match?.nodePort) p.nodePort = match.nodePort;
    }
    if (!spec.healthCheckNodePort && was.healthCheckNodePort && spec.externalTrafficPolicy === 'Local') {
      spec.healthCheckNodePort = was.healthCheckNodePort;
    }
  }
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Switching to a type that has no use for a field drops it, if the user left
 * it as it was (Kubernetes' dropTypeDependentFields): NodePort → ClusterIP
 * need not clear nodePorts by hand.
 */
function dropTypeDependentFields(obj: KubeObject, old: KubeObject): void {
  const spec: Json = obj.spec ?? {};
  const was: Json = old.spec ?? {};
  if (spec.type === 'ExternalName' && was.type !== 'ExternalName') {
    if (sameJson(spec.clusterIP, was.clusterIP) && sameJson(spec.clusterIPs, was.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameJson(spec.ipFamilies, was.ipFamilies)) delete spec.ipFamilies;
    if (sameJson(spec.ipFamilyPolicy, was.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
    if (sameJson(spec.internalTrafficPolicy, was.internalTrafficPolicy)) delete spec.internalTrafficPolicy;
  }
  const nodePorts = (s: Json) => (s.ports ?? []).map((p: Json) => p.nodePort ?? 0);
  const usesNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  if (!usesNodePorts && sameJson(nodePorts(spec), nodePorts(was).slice(0, (spec.ports ?? []).length))) {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  const healthCheck = spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
  if (!healthCheck && spec.healthCheckNodePort === was.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (spec.type !== 'LoadBalancer') {
    for (const f of ['allocateLoadBalancerNodePorts', 'loadBalancerClass']) if (sameJson(spec[f], was[f])) delete spec[f];
  }
  if (!usesNodePorts && sameJson(spec.externalTrafficPolicy, was.externalTrafficPolicy)) delete spec.externalTrafficPolicy;
}

function externalIP(spec: Json, status: Json): string {
  const external: string[] = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = [
        ...new Set<string>((status?.loadBalancer?.ingress ?? []).map((i: Json) => i.ip || i.hostname).filter(Boolean)),
      ].sort();
      const all = [...lb, ...external];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function portsCell(ports: Json[] | undefined): string {
  const pieces = (ports ?? []).map((p) => (p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`));
  return pieces.length ? pieces.join(',') : '<none>';
}

export const services: ResourceDef = {
  group: '',
  kind: 'Service',
  listKind: 'ServiceList',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { status: true, other: ['proxy'] },
  strategy: {
    nameRule: nameRules.dns1035Label,
    defaults: defaultService,
    validate: validateService,
    prepareForCreate(obj) {
      obj.status = { loadBalancer: {} };
    },
    prepareForUpdate(obj, old) {
      keepAllocated(obj, old);
      dropTypeDependentFields(obj, old);
      keepStatus(obj, old);
    },
    columns: [
      col('Type', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'The list of ports that are exposed by this service.'),
      ageColumn(),
      col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', { wide: true }),
    ],
    cells(obj, now) {
      const spec: Json = obj.spec ?? {};
      return [
        spec.type ?? '',
        spec.clusterIPs?.[0] ?? spec.clusterIP ?? '<none>',
        externalIP(spec, obj.status),
        portsCell(spec.ports),
        age(obj, now),
        formatLabels(spec.selector),
      ];
    },
  },
};

/** Kubernetes prints at most this many endpoints before "+ N more...". */
const MAX_LISTED = 3;

export function formatEndpoints(obj: KubeObject): string {
  const subsets: Json[] = obj.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let count = 0;
  let more = false;
  for (const ss of subsets) {
    const addresses: Json[] = ss.addresses ?? [];
    const ports: Json[] = ss.ports ?? [];
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === MAX_LISTED) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === MAX_LISTED) {
          more = true;
          break;
        }
        list.push(a.ip.includes(':') ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
      }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - MAX_LISTED} more...` : joined;
}

export const endpoints: ResourceDef = {
  group: '',
  kind: 'Endpoints',
  listKind: 'EndpointsList',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: {},
  strategy: {
    validate(obj) {
      const causes: StatusCause[] = [];
      (obj.subsets ?? []).forEach((ss: Json, i: number) => {
        const sp = index('subsets', i);
        for (const list of ['addresses', 'notReadyAddresses']) {
          (ss[list] ?? []).forEach((a: Json, j: number) => {
            if (!a?.ip) causes.push(fieldErrors.required(child(index(child(sp, list), j), 'ip')));
          });
        }
        (ss.ports ?? []).forEach((p: Json, j: number) => {
          const pp = index(child(sp, 'ports'), j);
          for (const msg of isValidPortNum(p.port)) causes.push(fieldErrors.invalid(child(pp, 'port'), p.port ?? 0, msg));
          if (p.protocol && !PROTOCOLS.includes(p.protocol)) causes.push(fieldErrors.notSupported(child(pp, 'protocol'), p.protocol, PROTOCOLS));
        });
      });
      return causes;
    },
    defaults(obj) {
      for (const ss of obj.subsets ?? []) for (const p of ss.ports ?? []) setDefault(p, 'protocol', 'TCP');
    },
    columns: [col('Endpoints', 'The set of all endpoints is the union of all subsets.'), ageColumn()],
    cells: (obj, now) => [formatEndpoints(obj), age(obj, now)],
  },
};
