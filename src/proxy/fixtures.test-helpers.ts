// Services and EndpointSlices for the proxy's unit tests.
import type { KubeObject } from '../api/types.ts';

export function service(
  name: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown> = {},
  namespace = 'ns1',
): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec, status };
}

type Ep = { ip: string; node?: string; ready?: boolean; serving?: boolean; terminating?: boolean };

export function slice(
  svc: string,
  endpoints: Ep[],
  ports: { name?: string; port: number; protocol?: string }[],
  namespace = 'ns1',
): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name: `${svc}-abcde`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node,
      conditions: {
        ready: e.ready ?? true,
        serving: e.serving ?? e.ready ?? true,
        terminating: e.terminating ?? false,
      },
    })),
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
  };
}

/** A LoadBalancer Service (ingress IP, an external IP, a NodePort) guarded by source ranges, and its one endpoint. */
export function guardedLoadBalancer(ranges: string[], ingress = '192.168.0.2'): KubeObject {
  return service(
    'lb',
    {
      type: 'LoadBalancer',
      clusterIP: '10.96.0.6',
      externalIPs: ['192.168.99.1'],
      loadBalancerSourceRanges: ranges,
      ports: [{ port: 80, nodePort: 30080 }],
    },
    { loadBalancer: { ingress: [{ ip: ingress }] } },
  );
}
export const guardedLoadBalancerSlices = (): KubeObject[] => [slice('lb', [{ ip: '10.244.0.2', node: 'n1' }], [{ port: 80 }])];

export const OPTIONS = { nodeIps: ['192.168.0.2'], clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12' };
