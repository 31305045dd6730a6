// Service allocation at admission: ClusterIP (dynamic, requested, headless),
// IP family fields, node ports and the health check node port, as
// Kubernetes' service REST storage does on create and update. Anything
// reserved here and not kept by the write is freed by the release watcher or
// the repair loop (see repair.ts).
import { errors } from '../../api/errors.ts';
import { fieldErrors, goStringSlice } from '../../api/field-errors.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { parseIpv4 } from '../../lib/ipv4.ts';
import type { AdmissionHook } from '../resources/context.ts';
import { AllocationError, type Owner, type RangeAllocator, sameOwner } from './range-allocator.ts';

// biome-ignore lint/suspicious/noExplicitAny: Service specs are plain JSON
type Json = any;

export type ServiceAllocators = { ips: RangeAllocator; ports: RangeAllocator };

/** What a Service holds: its ClusterIPs and node ports (health check port included). */
export function serviceItems(svc: KubeObject | undefined): { ips: string[]; ports: string[] } {
  const spec: Json = svc?.spec ?? {};
  if (spec.type === 'ExternalName') return { ips: [], ports: [] };
  const ips = ((spec.clusterIPs as string[] | undefined) ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip && ip !== 'None');
  const ports = new Set<string>();
  for (const p of (spec.ports as Json[] | undefined) ?? []) if (p.nodePort) ports.add(String(p.nodePort));
  if (spec.healthCheckNodePort) ports.add(String(spec.healthCheckNodePort));
  return { ips: [...new Set(ips)], ports: [...ports] };
}

export function needsNodePorts(spec: Json): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

/** Kubernetes' NeedsHealthCheck: a LoadBalancer that keeps traffic on the node it arrives at. */
export function needsHealthCheck(spec: Json): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

const invalid = (name: string, causes: StatusCause[]) => errors.invalid('', 'Service', name, causes);

/** The admission hook: only Service writes on the main resource. */
export function serviceAllocationHook(allocators: ServiceAllocators): AdmissionHook {
  return async ({ operation, def, obj, old, subresource, ctx }) => {
    if (def.group !== '' || def.kind !== 'Service' || subresource !== '' || operation === 'delete') return;
    const owner: Owner = { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
    const taken: { allocator: RangeAllocator; item: string }[] = [];
    const op = { allocators, owner, dryRun: ctx.dryRun, taken };
    try {
      await allocateIps(op, obj, operation === 'update' ? old : undefined);
      await allocateNodePorts(op, obj);
    } catch (err) {
      // Undo this request's own reservations; those it merely re-confirmed stay.
      if (!ctx.dryRun) for (const t of taken) await t.allocator.release(t.item, owner).catch(() => false);
      if (err instanceof AllocationError) throw errors.internal(err.message);
      throw err;
    }
  };
}

type Operation = {
  allocators: ServiceAllocators;
  owner: Owner;
  dryRun: boolean;
  taken: { allocator: RangeAllocator; item: string }[];
};

async function reserve(op: Operation, allocator: RangeAllocator, item: string): Promise<void> {
  const held = await allocator.holder(item);
  await allocator.allocate(item, op.owner, { dryRun: op.dryRun });
  if (!held || !sameOwner(held.owner, op.owner)) op.taken.push({ allocator, item });
}

async function reserveNext(op: Operation, allocator: RangeAllocator): Promise<string> {
  const item = await allocator.allocateNext(op.owner, { dryRun: op.dryRun });
  op.taken.push({ allocator, item });
  return item;
}

async function allocateIps(op: Operation, obj: KubeObject, old: KubeObject | undefined): Promise<void> {
  obj.spec ??= {};
  const spec: Json = obj.spec;
  const name = obj.metadata.name ?? '';
  if (spec.type === 'ExternalName') {
    if ((spec.clusterIP && spec.clusterIP !== '') || spec.clusterIPs?.length) {
      throw invalid(name, [fieldErrors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services')]);
    }
    delete spec.clusterIP;
    delete spec.clusterIPs;
    delete spec.ipFamilies;
    delete spec.ipFamilyPolicy;
    return;
  }
  if (spec.clusterIPs === undefined || spec.clusterIPs === null) spec.clusterIPs = spec.clusterIP ? [spec.clusterIP] : [];
  const ips: string[] = spec.clusterIPs;
  if (spec.clusterIP && ips[0] !== spec.clusterIP) {
    throw invalid(name, [fieldErrors.invalid('spec.clusterIPs', goStringSlice(ips), 'first value must match `clusterIP`')]);
  }
  const headless = ips[0] === 'None';
  checkFamilies(name, spec, headless);
  if (headless) {
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
    return;
  }
  if (ips.length > 1) {
    throw invalid(name, [
      fieldErrors.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? 'SingleStack', "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"),
    ]);
  }
  spec.ipFamilies = ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  const wasAllocated = old && old.spec?.type !== 'ExternalName' && old.spec?.clusterIP && old.spec.clusterIP === ips[0];
  if (wasAllocated) return; // immutable and already ours
  let ip = ips[0];
  try {
    if (ip) {
      try {
        parseIpv4(ip);
      } catch {
        throw invalid(name, [fieldErrors.invalid('spec.clusterIPs[0]', ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')]);
      }
      await reserve(op, op.allocators.ips, ip);
    } else {
      ip = await reserveNext(op, op.allocators.ips);
    }
  } catch (err) {
    if (!(err instanceof AllocationError)) throw err;
    if (err.kind === 'full') throw errors.internal(`failed to allocate a serviceIP: ${err.message}`);
    throw invalid(name, [fieldErrors.invalid('spec.clusterIPs', goStringSlice(ips), `failed to allocate IP ${ip}: ${err.message}`)]);
  }
  spec.clusterIP = ip;
  spec.clusterIPs = [ip];
}

/** A single-stack IPv4 cluster: IPv6 families and RequireDualStack are refused (headless selectorless excepted). */
function checkFamilies(name: string, spec: Json, headless: boolean): void {
  const selectorless = !spec.selector || Object.keys(spec.selector).length === 0;
  if (headless && selectorless) {
    // Kubernetes' special case: headless without selector defaults to dual-stack families.
    spec.ipFamilyPolicy ??= 'RequireDualStack';
    spec.ipFamilies ??= ['IPv4'];
    if (spec.ipFamilyPolicy !== 'SingleStack' && spec.ipFamilies.length < 2) spec.ipFamilies = [...spec.ipFamilies, spec.ipFamilies[0] === 'IPv6' ? 'IPv4' : 'IPv6'];
    return;
  }
  const causes: StatusCause[] = [];
  if (spec.ipFamilyPolicy === 'RequireDualStack') {
    causes.push(fieldErrors.invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
  }
  ((spec.ipFamilies as string[] | undefined) ?? []).forEach((family, i) => {
    if (family !== 'IPv4') causes.push(fieldErrors.invalid(`spec.ipFamilies[${i}]`, family, 'not configured on this cluster'));
  });
  if (causes.length) throw invalid(name, causes);
  if (headless) {
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.ipFamilies = ['IPv4'];
  }
}

async function allocateNodePorts(op: Operation, obj: KubeObject): Promise<void> {
  const spec: Json = obj.spec;
  const name = obj.metadata.name ?? '';
  const ports: Json[] = spec.ports ?? [];
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    // One node port per service port number: TCP and UDP on the same port share it (Kubernetes' initNodePorts).
    const byServicePort = new Map<number, number>();
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      if (!p.nodePort && !needsNodePorts(spec)) continue;
      const shared = byServicePort.get(p.port);
      if (shared && (!p.nodePort || p.nodePort === shared)) {
        p.nodePort = shared;
        continue;
      }
      const requested = p.nodePort || ports.slice(i).find((q) => q.port === p.port && q.nodePort)?.nodePort;
      try {
        if (requested) await reserve(op, op.allocators.ports, String(requested));
        p.nodePort = requested || Number(await reserveNext(op, op.allocators.ports));
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        if (err.kind === 'full') throw errors.internal(`failed to allocate a nodePort: ${err.message}`);
        throw invalid(name, [fieldErrors.invalid(`spec.ports[${i}].nodePort`, requested, err.message)]);
      }
      if (!shared) byServicePort.set(p.port, p.nodePort);
    }
  }
  if (needsHealthCheck(spec)) {
    const requested = spec.healthCheckNodePort;
    try {
      if (requested) await reserve(op, op.allocators.ports, String(requested));
      else spec.healthCheckNodePort = Number(await reserveNext(op, op.allocators.ports));
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      const what = requested ? `failed to allocate requested HealthCheck NodePort ${requested}` : 'failed to allocate a HealthCheck NodePort 0';
      throw errors.internal(`${what}: ${err.message}`);
    }
  } else if (spec.healthCheckNodePort) {
    throw invalid(name, [
      fieldErrors.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
    ]);
  }
}
