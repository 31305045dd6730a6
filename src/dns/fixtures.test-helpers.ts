// Test fixtures for cluster DNS: a populated index, a handler without sockets,
// and query builders (dns-packet builds every query the tests send).
import packet, { type Answer, type Question, type RecordType } from 'dns-packet';
import type { KubeObject } from '../api/types.ts';
import { startDnsServer, type DnsServer } from './server.ts';
import type { UpstreamResolver } from './upstream.ts';
import { ClusterDnsIndex } from './zone-index.ts';

export const ns = (name: string): KubeObject => ({ metadata: { name } });

export function service(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { metadata: { namespace, name }, spec };
}

type Ep = { ip: string; hostname?: string; ready?: boolean };
export function slice(namespace: string, svc: string, name: string, endpoints: Ep[], ports: { name?: string; port: number; protocol?: string }[] = []): KubeObject {
  return {
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: endpoints[0]?.ip.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], hostname: e.hostname, conditions: { ready: e.ready ?? true } })),
    ports,
  };
}

/** The cluster the tests query (names follow CoreDNS's own handler tests). */
export function sampleIndex(): ClusterDnsIndex {
  const index = new ClusterDnsIndex({ zone: 'cluster.local' });
  for (const n of ['default', 'testns', 'kube-system']) index.upsertNamespace(ns(n));
  index.upsertService(
    service('testns', 'svc1', {
      clusterIP: '10.0.0.1',
      clusterIPs: ['10.0.0.1'],
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    }),
  );
  index.upsertService(service('testns', 'hdls1', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
  index.upsertSlice(
    slice(
      'testns',
      'hdls1',
      'hdls1-abc',
      [
        { ip: '172.0.0.2' },
        { ip: '172.0.0.3' },
        { ip: '172.0.0.4', hostname: 'dup-name' },
        { ip: '172.0.0.5', hostname: 'dup-name' },
        { ip: '172.0.0.9', ready: false },
      ],
      [{ name: 'http', port: 80, protocol: 'TCP' }],
    ),
  );
  index.upsertService(service('testns', 'web', { clusterIP: 'None', ports: [{ name: 'web', port: 8080 }] }));
  index.upsertSlice(
    slice('testns', 'web', 'web-1', [
      { ip: '10.244.1.10', hostname: 'web-0' },
      { ip: '10.244.2.11', hostname: 'web-1' },
    ], [{ name: 'web', port: 8080, protocol: 'TCP' }]),
  );
  index.upsertService(service('testns', 'unready', { clusterIP: 'None', publishNotReadyAddresses: true }));
  index.upsertSlice(slice('testns', 'unready', 'unready-1', [{ ip: '10.244.3.3', ready: false }]));
  index.upsertService(service('testns', 'empty', { clusterIP: 'None' }));
  index.upsertService(service('testns', 'external', { type: 'ExternalName', externalName: 'ext.interwebs.test' }));
  index.upsertService(service('testns', 'ext-to-svc', { type: 'ExternalName', externalName: 'svc1.testns.svc.cluster.local.' }));
  index.upsertService(service('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
  return index;
}

export async function handlerFor(index: ClusterDnsIndex, upstream?: UpstreamResolver): Promise<{ server: DnsServer; stop: () => Promise<void> }> {
  const ac = new AbortController();
  const server = await startDnsServer({ index, listen: [], upstream, signal: ac.signal });
  const stop = () => {
    ac.abort();
    return server.closed;
  };
  return { server, stop };
}

export type QueryOptions = { id?: number; edns?: number; ednsVersion?: number; dnssecOk?: boolean; flags?: number };

export function query(name: string, type: RecordType, options: QueryOptions = {}): Buffer {
  const buf = packet.encode({
    type: 'query',
    id: options.id ?? 4242,
    flags: options.flags ?? packet.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: (options.edns !== undefined
      ? [{ type: 'OPT', name: '.', udpPayloadSize: options.edns, flags: options.dnssecOk ? packet.DNSSEC_OK : 0 }]
      : []) as Answer[],
  });
  if (options.ednsVersion) buf[buf.length - 5] = options.ednsVersion;
  return buf;
}

/** A decoded reply with the fields tests read (dns-packet's own type leaves rcode out). */
export type Reply = {
  id: number;
  flags: number;
  rcode: string;
  flag_tc: boolean;
  questions: Question[];
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  raw: Buffer;
};

export function decodeReply(raw: Buffer): Reply {
  const d = packet.decode(raw) as unknown as Reply;
  return { ...d, flags: d.flags ?? 0, answers: d.answers ?? [], authorities: d.authorities ?? [], additionals: d.additionals ?? [], questions: d.questions ?? [], raw };
}

export async function ask(server: DnsServer, name: string, type: RecordType, options: QueryOptions & { tcp?: boolean } = {}): Promise<Reply> {
  const reply = await server.handle(query(name, type, options), options.tcp ? 'tcp' : 'udp');
  if (!reply) throw new Error('no reply');
  return decodeReply(reply);
}

/** "A 10.0.0.1"-style lines of a section, for compact assertions. */
export function rrs(list: Answer[] | undefined): string[] {
  return (list ?? []).map((a) => {
    const data = (a as { data: unknown }).data;
    if (a.type === 'SRV') {
      const d = data as { priority: number; weight: number; port: number; target: string };
      return `${a.name} ${a.ttl} SRV ${d.priority} ${d.weight} ${d.port} ${d.target}`;
    }
    if (a.type === 'SOA') {
      const d = data as { mname: string; rname: string; refresh: number; retry: number; expire: number; minimum: number };
      return `${a.name} ${a.ttl} SOA ${d.mname} ${d.rname} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    }
    if (a.type === 'TXT') return `${a.name} ${a.ttl} TXT ${(data as Buffer[]).map(String).join(' ')}`;
    if (a.type === 'OPT') return 'OPT';
    return `${a.name} ${a.ttl} ${a.type} ${String(data)}`;
  });
}
