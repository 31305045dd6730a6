// networking.k8s.io/v1 Ingresses, IngressClasses and NetworkPolicies.
import { child, fieldErrors, index, validateImmutable } from '../../api/field-errors.ts';
import { formatLabelSelector, validateLabelSelector } from '../../api/labels.ts';
import { isDNS1123Subdomain, isQualifiedName } from '../../api/names.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { age, ageColumn, col, type Json, keepStatus, setDefault } from './helpers.ts';
import { PROTOCOLS } from './pod-validation.ts';
import type { ResourceDef } from './types.ts';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const POLICY_TYPES = ['Ingress', 'Egress'];
/** kubectl lists at most three hosts, then "+ N more...". */
const MAX_HOSTS = 3;

function validateBackend(b: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!b || (!b.service && !b.resource)) return [fieldErrors.invalid(path, '', 'one backend must be specified')];
  if (b.service && b.resource) return [fieldErrors.invalid(path, '', 'cannot set both resource and service backends')];
  if (b.service) {
    const sp = child(path, 'service');
    if (!b.service.name) causes.push(fieldErrors.required(child(sp, 'name')));
    const port = b.service.port ?? {};
    if (port.name && port.number) causes.push(fieldErrors.invalid(child(sp, 'port'), port.name, 'cannot set both port name & port number'));
    else if (!port.name && !port.number) causes.push(fieldErrors.invalid(child(sp, 'port'), '', 'port name or number is required'));
  }
  return causes;
}

function validateHost(host: string, path: string): StatusCause[] {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':')) return [fieldErrors.invalid(path, host, 'must be a DNS name, not an IP address')];
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  return isDNS1123Subdomain(bare).map((msg) => fieldErrors.invalid(path, host, msg));
}

function validateIngress(obj: KubeObject): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes: StatusCause[] = [];
  const rules: Json[] = spec.rules ?? [];
  if (!spec.defaultBackend && rules.length === 0) {
    causes.push(fieldErrors.invalid('spec', { goLiteral: 'networking.IngressSpec{...}' }, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend) causes.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  if (spec.ingressClassName) {
    for (const msg of isDNS1123Subdomain(spec.ingressClassName)) causes.push(fieldErrors.invalid('spec.ingressClassName', spec.ingressClassName, msg));
  }
  rules.forEach((rule, i) => {
    const rp = index('spec.rules', i);
    if (rule.host) causes.push(...validateHost(rule.host, child(rp, 'host')));
    if (!rule.http) return;
    const paths: Json[] = rule.http.paths ?? [];
    if (paths.length === 0) causes.push(fieldErrors.required(child(rp, 'http.paths')));
    paths.forEach((p, j) => {
      const pp = index(child(rp, 'http.paths'), j);
      if (!p.pathType) causes.push(fieldErrors.required(child(pp, 'pathType'), `pathType must be specified`));
      else if (!PATH_TYPES.includes(p.pathType)) causes.push(fieldErrors.notSupported(child(pp, 'pathType'), p.pathType, PATH_TYPES));
      if ((p.pathType === 'Exact' || p.pathType === 'Prefix') && !String(p.path ?? '').startsWith('/')) {
        causes.push(fieldErrors.invalid(child(pp, 'path'), p.path ?? '', 'must be an absolute path'));
      }
      causes.push(...validateBackend(p.backend, child(pp, 'backend')));
    });
  });
  (spec.tls ?? []).forEach((t: Json, i: number) => {
    (t.hosts ?? []).forEach((h: string, j: number) => {
      causes.push(...validateHost(h, index(child(index('spec.tls', i), 'hosts'), j)));
    });
  });
  return causes;
}

function formatHosts(rules: Json[] | undefined): string {
  const list: string[] = [];
  let more = false;
  for (const rule of rules ?? []) {
    if (list.length === MAX_HOSTS) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${(rules ?? []).length - MAX_HOSTS} more...` : list.join(',');
}

function loadBalancerAddresses(status: Json): string {
  const set = new Set<string>();
  for (const i of status?.loadBalancer?.ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  return [...set].sort().join(',');
}

export const ingresses: ResourceDef = {
  group: 'networking.k8s.io',
  kind: 'Ingress',
  listKind: 'IngressList',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { status: true },
  strategy: {
    validate: validateIngress,
    prepareForCreate(obj) {
      obj.status = {};
    },
    prepareForUpdate: keepStatus,
    columns: [
      col('Class', 'The name of the IngressClass resource that should be used for additional configuration'),
      col('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'Ports of TLS configurations that open'),
      ageColumn(),
    ],
    cells: (obj, now) => [
      obj.spec?.ingressClassName ?? '<none>',
      formatHosts(obj.spec?.rules),
      loadBalancerAddresses(obj.status),
      (obj.spec?.tls ?? []).length ? '80, 443' : '80',
      age(obj, now),
    ],
  },
};

export const ingressClasses: ResourceDef = {
  group: 'networking.k8s.io',
  kind: 'IngressClass',
  listKind: 'IngressClassList',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: {},
  strategy: {
    validate(obj, old) {
      const causes: StatusCause[] = [];
      const controller: string | undefined = obj.spec?.controller;
      if (!controller) causes.push(fieldErrors.required('spec.controller'));
      else if (!controller.includes('/') || isQualifiedName(controller.split('/')[0]).length > 0) {
        causes.push(fieldErrors.invalid('spec.controller', controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
      }
      if (old) causes.push(...validateImmutable(controller, old.spec?.controller, 'spec.controller', controller ?? ''));
      return causes;
    },
    columns: [
      col('Controller', 'Controller that is responsible for handling this class'),
      col('Parameters', 'A reference to a resource with additional parameters'),
      ageColumn(),
    ],
    cells(obj, now) {
      const p: Json = obj.spec?.parameters;
      const parameters = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
      return [obj.spec?.controller ?? '', parameters, age(obj, now)];
    },
  },
};

function defaultNetworkPolicy(obj: KubeObject): void {
  obj.spec ??= {};
  const spec: Json = obj.spec;
  for (const dir of ['ingress', 'egress']) {
    for (const rule of spec[dir] ?? []) for (const p of rule.ports ?? []) setDefault(p, 'protocol', 'TCP');
  }
  if (!spec.policyTypes || spec.policyTypes.length === 0) {
    spec.policyTypes = ['Ingress'];
    if ((spec.egress ?? []).length > 0) spec.policyTypes.push('Egress');
  }
}

function validateNetworkPolicy(obj: KubeObject): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  (spec.policyTypes ?? []).forEach((t: string, i: number) => {
    if (!POLICY_TYPES.includes(t)) causes.push(fieldErrors.notSupported(index('spec.policyTypes', i), t, POLICY_TYPES));
  });
  for (const dir of ['ingress', 'egress']) {
    (spec[dir] ?? []).forEach((rule: Json, i: number) => {
      (rule.ports ?? []).forEach((p: Json, j: number) => {
        const pp = index(child(index(`spec.${dir}`, i), 'ports'), j);
        if (p.protocol && !PROTOCOLS.includes(p.protocol)) causes.push(fieldErrors.notSupported(child(pp, 'protocol'), p.protocol, PROTOCOLS));
        if (p.endPort !== undefined && typeof p.port === 'number' && p.endPort < p.port) {
          causes.push(fieldErrors.invalid(child(pp, 'endPort'), p.endPort, 'must be greater than or equal to `port`'));
        }
      });
    });
  }
  return causes;
}

export const networkPolicies: ResourceDef = {
  group: 'networking.k8s.io',
  kind: 'NetworkPolicy',
  listKind: 'NetworkPolicyList',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  namespaced: true,
  shortNames: ['netpol'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: {},
  strategy: {
    defaults: defaultNetworkPolicy,
    validate: validateNetworkPolicy,
    columns: [col('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies.'), ageColumn()],
    cells: (obj, now) => [formatLabelSelector(obj.spec?.podSelector ?? {}), age(obj, now)],
  },
};
