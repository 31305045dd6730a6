// The Services every cluster has: `default/kubernetes` at the first service
// IP, whose Endpoints and EndpointSlice the API server keeps pointing at
// itself (Kubernetes' master endpoints reconciler), and `kube-system/kube-dns`
// at the tenth IP, served by skiff's node agents rather than pods.
import { isNotFound } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { RequestContext } from '../resources/context.ts';
import type { ObjectService } from '../resources/objects.ts';
import type { ResourceRegistry } from '../resources/registry.ts';
import type { ResourceDef } from '../registry/types.ts';
import { nthServiceIp } from './ip-allocator.ts';

/** The port the `kubernetes` Service exposes (kubeadm, k3s). */
export const KUBERNETES_SERVICE_PORT = 443;
/** Which usable address of the service CIDR kube-dns takes (the convention kubeadm and k3s follow). */
export const DNS_SERVICE_INDEX = 10;
/** CoreDNS' Prometheus port, part of the kube-dns Service as kubeadm installs it. */
const DNS_METRICS_PORT = 9153;

export type SystemServicesOptions = {
  serviceCidr: string;
  /** The port the API server listens on: the `kubernetes` Service's targetPort. */
  apiPort: number;
  /** Where clients reach the API server: the node IP, or 127.0.0.1. */
  advertiseAddress: string;
};

const context = (): RequestContext => ({
  user: { name: 'system:apiserver', groups: ['system:masters'] },
  dryRun: false,
  fieldManager: 'kube-apiserver',
  fieldValidation: 'Ignore',
  warnings: [],
});

export function kubernetesService(options: SystemServicesOptions): KubeObject {
  const ip = nthServiceIp(options.serviceCidr, 1);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      sessionAffinity: 'None',
      ports: [{ name: 'https', port: KUBERNETES_SERVICE_PORT, protocol: 'TCP', targetPort: options.apiPort }],
    },
  };
}

export function kubeDnsService(serviceCidr: string): KubeObject {
  const ip = nthServiceIp(serviceCidr, DNS_SERVICE_INDEX);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': String(DNS_METRICS_PORT), 'prometheus.io/scrape': 'true' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: DNS_METRICS_PORT, protocol: 'TCP', targetPort: DNS_METRICS_PORT },
      ],
    },
  };
}

/** The API server's own Endpoints (skip-mirror: no mirrored slice; the reconciler writes its own). */
export function kubernetesEndpoints(options: SystemServicesOptions): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: options.advertiseAddress }], ports: [{ name: 'https', port: options.apiPort, protocol: 'TCP' }] }],
  };
}

export function kubernetesEndpointSlice(options: SystemServicesOptions): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [options.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port: options.apiPort, protocol: 'TCP' }],
  };
}

/**
 * Creates what is missing and brings the API server's own objects up to
 * date (its port or address may differ from the last start).
 */
export async function ensureSystemServices(args: {
  registry: ResourceRegistry;
  objects: ObjectService;
  log: Logger;
  options: SystemServicesOptions;
}): Promise<void> {
  const { registry, objects, options } = args;
  const services = registry.byGroupResource('', 'services')!;
  const endpoints = registry.byGroupResource('', 'endpoints')!;
  const slices = registry.byGroupResource('discovery.k8s.io', 'endpointslices')!;
  await ensure(objects, services, kubernetesService(options), (cur) => {
    const ports = kubernetesService(options).spec.ports;
    return { ...cur, spec: { ...cur.spec, ports } };
  });
  await ensure(objects, services, kubeDnsService(options.serviceCidr));
  await ensure(objects, endpoints, kubernetesEndpoints(options), (cur) => ({ ...cur, subsets: kubernetesEndpoints(options).subsets }));
  const slice = kubernetesEndpointSlice(options);
  await ensure(objects, slices, slice, (cur) => ({ ...cur, endpoints: slice.endpoints, ports: slice.ports }));
  args.log.debug('system services in place', { kubernetes: nthServiceIp(options.serviceCidr, 1), dns: nthServiceIp(options.serviceCidr, DNS_SERVICE_INDEX) });
}

/** Creates `want` when absent; otherwise applies `refresh` (a no-op write changes nothing). */
async function ensure(objects: ObjectService, def: ResourceDef, want: KubeObject, refresh?: (cur: KubeObject) => KubeObject): Promise<void> {
  const { namespace = '', name = '' } = want.metadata;
  try {
    await objects.getStored(def, namespace, name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await objects.create(def, def.storageVersion, namespace, want, context());
    return;
  }
  if (refresh) await objects.mutate(def, def.storageVersion, namespace, name, context(), '', refresh);
}
