// Service-link environment variables (Kubernetes' envvars.FromServices):
// `<NAME>_SERVICE_HOST`, `_SERVICE_PORT`, `_SERVICE_PORT_<PORT NAME>` and the
// Docker-link style `<NAME>_PORT...` set, for every Service with a cluster IP.
import type { KubeObject } from '../../api/types.ts';
import type { EnvVar, Json } from './types.ts';

/** Services in "default" whose variables every pod gets, enableServiceLinks or not (the kubelet's masterServices). */
const MASTER_SERVICES = new Set(['kubernetes']);

function envName(s: string): string {
  return s.replaceAll('-', '_').toUpperCase();
}

function hasClusterIP(svc: KubeObject): boolean {
  const ip = svc.spec?.clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None';
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The variables for these services, in Kubernetes' order (per service: host, ports, link vars). */
export function serviceLinkEnv(services: KubeObject[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const svc of services) {
    const ports: Json[] = svc.spec?.ports ?? [];
    if (!hasClusterIP(svc) || ports.length === 0) continue;
    const prefix = envName(svc.metadata.name ?? '');
    const ip: string = svc.spec.clusterIP;
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) {
      if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    }
    ports.forEach((p, i) => {
      const protocol = String(p.protocol || 'TCP');
      const url = `${protocol.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push({ name: portPrefix, value: url });
      out.push({ name: `${portPrefix}_PROTO`, value: protocol.toLowerCase() });
      out.push({ name: `${portPrefix}_PORT`, value: String(p.port) });
      out.push({ name: `${portPrefix}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The service env a pod gets (the kubelet's getServiceEnvVarMap): the
 * `kubernetes` Service from "default" always, and with enableServiceLinks
 * (default true) every Service of the pod's namespace, which wins a name clash.
 * Services are taken sorted by name so the result does not depend on list order.
 */
export function serviceEnvForPod(pod: KubeObject, services: KubeObject[]): EnvVar[] {
  const namespace = pod.metadata.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, KubeObject>();
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const name = svc.metadata.name ?? '';
    if (links && svc.metadata.namespace === namespace) chosen.set(name, svc);
    else if (svc.metadata.namespace === 'default' && MASTER_SERVICES.has(name) && !chosen.has(name)) chosen.set(name, svc);
  }
  const sorted = [...chosen.keys()].sort().map((k) => chosen.get(k)!);
  return serviceLinkEnv(sorted);
}
