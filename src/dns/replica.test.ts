import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import type { KubeObject } from '../api/types.ts';
import { handlerFor, query, sampleIndex } from './fixtures.test-helpers.ts';
import { followZone, trimSource, ZonePublisher } from './replica.ts';
import { ClusterDnsIndex } from './zone-index.ts';

const QUESTIONS: [string, 'A' | 'AAAA' | 'SRV' | 'PTR' | 'SOA' | 'NS' | 'TXT' | 'CNAME'][] = [
  ['svc1.testns.svc.cluster.local', 'A'],
  ['_http._tcp.svc1.testns.svc.cluster.local', 'SRV'],
  ['hdls1.testns.svc.cluster.local', 'A'],
  ['hdls1.testns.svc.cluster.local', 'SRV'],
  ['dup-name.hdls1.testns.svc.cluster.local', 'A'],
  ['web-0.web.testns.svc.cluster.local', 'A'],
  ['unready.testns.svc.cluster.local', 'A'],
  ['empty.testns.svc.cluster.local', 'A'],
  ['external.testns.svc.cluster.local', 'A'],
  ['ext-to-svc.testns.svc.cluster.local', 'A'],
  ['nope.testns.svc.cluster.local', 'A'],
  ['10-1-2-3.testns.pod.cluster.local', 'A'],
  ['cluster.local', 'SOA'],
  ['cluster.local', 'NS'],
  ['dns-version.cluster.local', 'TXT'],
  ['1.0.0.10.in-addr.arpa', 'PTR'],
  ['10.1.244.10.in-addr.arpa', 'PTR'],
];

/** Every reply's bytes, as a list, for one index. */
async function answers(index: ClusterDnsIndex): Promise<string[]> {
  const { server, stop } = await handlerFor(index);
  try {
    const out: string[] = [];
    for (const [name, type] of QUESTIONS) out.push(`${name}/${type} ${Buffer.from((await server.handle(query(name, type), 'udp')) as Buffer).toString('hex')}`);
    return out;
  } finally {
    await stop();
  }
}

/** What an informer hands over: the DNS fields plus everything else a real object carries. */
const bloated = (o: KubeObject): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, uid: 'u-1', resourceVersion: '7', managedFields: [{ manager: 'kubectl', fieldsV1: { big: 'x'.repeat(200) } }] },
  status: { loadBalancer: {} },
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

test('a replica fed by snapshot and changes answers byte for byte what the primary answers', async () => {
  const { namespaces, services, slices } = sampleIndex().sources();
  const primary = new ClusterDnsIndex({ zone: 'cluster.local' });
  const publisher = new ZonePublisher(primary);
  for (const name of namespaces) publisher.apply('namespace', false, { metadata: { name } });
  const half = Math.floor(services.length / 2);
  for (const s of services.slice(0, half)) publisher.apply('service', false, bloated(s));
  for (const s of slices.slice(0, 1)) publisher.apply('slice', false, bloated(s));

  const { port1, port2 } = new MessageChannel();
  publisher.add(port1);
  const { index: replica, synced } = await followZone(port2, 'cluster.local');
  let isSynced = false;
  void synced.then(() => {
    isSynced = true;
  });
  try {
    for (const s of services.slice(half)) publisher.apply('service', false, bloated(s));
    for (const s of slices.slice(1)) publisher.apply('slice', false, bloated(s));
    await settle();
    assert.equal(isSynced, false);
    publisher.markSynced();
    await settle();
    assert.equal(isSynced, true);
    assert.ok(primary.lookup('web-0.web.testns.svc.cluster.local'));
    assert.deepEqual(await answers(replica), await answers(primary));
    assert.equal(replica.serial, primary.serial);

    const web = services.find((s) => s.metadata.name === 'web')!;
    publisher.apply('service', true, web);
    publisher.apply('namespace', true, { metadata: { name: 'default' } });
    await settle();
    assert.equal(replica.lookup('web-0.web.testns.svc.cluster.local'), undefined);
    assert.deepEqual(await answers(replica), await answers(primary));
  } finally {
    publisher.close();
    port2.close();
  }
});

test('trimSource keeps what DNS reads and drops the rest', () => {
  const svc = bloated({ metadata: { name: 'a', namespace: 'n' }, spec: { clusterIP: '10.0.0.1', selector: { app: 'a' }, ports: [{ name: 'h', port: 80, protocol: 'TCP', targetPort: 8080 }] } });
  assert.deepEqual(JSON.parse(JSON.stringify(trimSource('service', svc))), {
    metadata: { name: 'a', namespace: 'n' },
    spec: { clusterIP: '10.0.0.1', ports: [{ name: 'h', port: 80, protocol: 'TCP' }] },
  });
  const slice = bloated({
    metadata: { name: 's', namespace: 'n', labels: { 'kubernetes.io/service-name': 'a', other: 'x' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.1.1.1'], conditions: { ready: true, serving: true }, nodeName: 'n1', targetRef: { kind: 'Pod' } }],
    ports: [{ port: 80 }],
  });
  assert.deepEqual(JSON.parse(JSON.stringify(trimSource('slice', slice))), {
    metadata: { name: 's', namespace: 'n', labels: { 'kubernetes.io/service-name': 'a' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.1.1.1'], conditions: { ready: true } }],
    ports: [{ port: 80 }],
  });
});
