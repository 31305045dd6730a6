// Zone replication between DNS threads. One thread keeps the informers and
// the index (the primary); every other UDP thread keeps a replica index, fed
// over a MessagePort: a snapshot of the sources (namespaces, Services,
// EndpointSlices) when it joins, then each change, batched per tick. Only the
// fields DNS reads cross the port, so a replica holds a fraction of an
// informer cache and the API server sees one set of watches however many
// threads answer. Changes carry the primary's SOA serial, so every thread
// gives the same answers.
import type { MessagePort } from 'node:worker_threads';
import type { KubeObject } from '../api/types.ts';
import { ClusterDnsIndex } from './zone-index.ts';

/** The EndpointSlice label naming its Service (the index groups slices by it). */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type SourceKind = 'namespace' | 'service' | 'slice';
export type ZoneChange = { kind: SourceKind; deleted: boolean; object: KubeObject; serial: number };
export type ZoneMessage =
  | { type: 'snapshot'; serial: number; namespaces: string[]; services: KubeObject[]; slices: KubeObject[] }
  | { type: 'changes'; changes: ZoneChange[] }
  | { type: 'synced' };

type Port = { name?: string; port?: number; protocol?: string };
const ports = (list: Port[] | undefined) => list?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol }));

/** The fields of a source that records.ts and zone-index.ts read; the rest stays with the primary. */
export function trimSource(kind: SourceKind, o: KubeObject): KubeObject {
  const { name, namespace } = o.metadata;
  if (kind === 'namespace') return { metadata: { name } };
  if (kind === 'service') {
    const s = o.spec ?? {};
    const spec = {
      type: s.type,
      externalName: s.externalName,
      clusterIP: s.clusterIP,
      clusterIPs: s.clusterIPs,
      ports: ports(s.ports),
      publishNotReadyAddresses: s.publishNotReadyAddresses,
    };
    return { metadata: { name, namespace }, spec };
  }
  const service = o.metadata.labels?.[SERVICE_NAME_LABEL];
  return {
    metadata: { name, namespace, labels: service === undefined ? {} : { [SERVICE_NAME_LABEL]: service } },
    addressType: o.addressType,
    endpoints: (o.endpoints ?? []).map((e: { addresses?: string[]; hostname?: string; conditions?: { ready?: boolean } }) => ({
      addresses: e.addresses,
      hostname: e.hostname,
      conditions: { ready: e.conditions?.ready },
    })),
    ports: ports(o.ports),
  };
}

export function applyChange(index: ClusterDnsIndex, c: { kind: SourceKind; deleted: boolean; object: KubeObject }): void {
  const o = c.object;
  if (c.kind === 'namespace') {
    if (c.deleted) index.deleteNamespace(o);
    else index.upsertNamespace(o);
  } else if (c.kind === 'service') {
    if (c.deleted) index.deleteService(o);
    else index.upsertService(o);
  } else if (c.deleted) index.deleteSlice(o);
  else index.upsertSlice(o);
}

/** The primary's side: applies each change to its own index and sends it on to every replica. */
export class ZonePublisher {
  #index: ClusterDnsIndex;
  #ports: MessagePort[] = [];
  #pending: ZoneChange[] = [];
  #synced = false;

  constructor(index: ClusterDnsIndex) {
    this.#index = index;
  }

  apply(kind: SourceKind, deleted: boolean, object: KubeObject): void {
    applyChange(this.#index, { kind, deleted, object });
    if (this.#ports.length === 0) return;
    // One message per tick: a burst (1,000 Services applied at once) is one structured clone, not 1,000.
    if (this.#pending.length === 0) setImmediate(() => this.#flush());
    this.#pending.push({ kind, deleted, object: trimSource(kind, object), serial: this.#index.serial });
  }

  #flush(): void {
    const changes = this.#pending;
    this.#pending = [];
    for (const port of this.#ports) port.postMessage({ type: 'changes', changes } satisfies ZoneMessage);
  }

  /** A new replica: everything so far, then every later change (and `synced` once the informers have synced). */
  add(port: MessagePort): void {
    if (this.#pending.length) this.#flush();
    const { namespaces, services, slices } = this.#index.sources();
    port.postMessage({
      type: 'snapshot',
      serial: this.#index.serial,
      namespaces,
      services: services.map((s) => trimSource('service', s)),
      slices: slices.map((s) => trimSource('slice', s)),
    } satisfies ZoneMessage);
    if (this.#synced) port.postMessage({ type: 'synced' } satisfies ZoneMessage);
    this.#ports.push(port);
  }

  markSynced(): void {
    if (this.#pending.length) this.#flush();
    this.#synced = true;
    for (const port of this.#ports) port.postMessage({ type: 'synced' } satisfies ZoneMessage);
  }

  close(): void {
    for (const port of this.#ports) port.close();
    this.#ports = [];
  }
}

export type ZoneReplica = { index: ClusterDnsIndex; synced: Promise<void> };

/** A replica's side: an index that follows the primary's over `port`; resolves once the snapshot has arrived. */
export function followZone(port: MessagePort, zone: string): Promise<ZoneReplica> {
  let serial = 0;
  const clock = () => serial;
  let index: ClusterDnsIndex | undefined;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  return new Promise((resolve) => {
    port.on('message', (msg: ZoneMessage) => {
      if (msg.type === 'snapshot') {
        serial = msg.serial;
        index = new ClusterDnsIndex({ zone, clock });
        for (const name of msg.namespaces) index.upsertNamespace({ metadata: { name } });
        for (const s of msg.services) index.upsertService(s);
        for (const s of msg.slices) index.upsertSlice(s);
        resolve({ index, synced });
      } else if (msg.type === 'changes' && index) {
        for (const c of msg.changes) {
          serial = c.serial;
          applyChange(index, c);
        }
      } else if (msg.type === 'synced') markSynced();
    });
  });
}
