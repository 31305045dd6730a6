import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import type { KubeObject } from '../api/types.ts';
import type { Client, ResourceRef, WatchEvent } from '../client/index.ts';
import { startClusterDns } from './cluster.ts';
import { decodeReply, query, type Reply, rrs, sampleIndex, service, slice } from './fixtures.test-helpers.ts';
import { addDnsAddress, removeDnsAddress } from './node-address.ts';
import { followZone, ZonePublisher } from './replica.ts';
import { startDnsServer } from './server.ts';
import { TcpFramer } from './tcp-framing.ts';

function udpAsk(port: number, msg: Buffer, address = '127.0.0.1'): Promise<Reply> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no UDP reply'));
    }, 2000);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(decodeReply(reply));
    });
    socket.send(msg, port, address);
  });
}

test('UDP and TCP listeners; TCP carries pipelined queries, split across writes', async () => {
  const ac = new AbortController();
  const server = await startDnsServer({ index: sampleIndex(), listen: [{ address: '127.0.0.1', port: 0 }], signal: ac.signal });
  try {
    const port = server.addresses[0].port;
    assert.ok(port > 0);
    const udp = await udpAsk(port, query('svc1.testns.svc.cluster.local', 'A'));
    assert.deepEqual(rrs(udp.answers), ['svc1.testns.svc.cluster.local 5 A 10.0.0.1']);

    const names = ['svc1.testns.svc.cluster.local', 'web.testns.svc.cluster.local', 'nope.testns.svc.cluster.local'];
    const wire = Buffer.concat(names.map((n, i) => {
      const q = query(n, 'A', { id: 100 + i });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      return Buffer.concat([len, q]);
    }));
    const replies = await new Promise<Reply[]>((resolve, reject) => {
      const conn = connect({ host: '127.0.0.1', port });
      const framer = new TcpFramer();
      const got: Reply[] = [];
      conn.on('data', (chunk) => {
        for (const m of framer.push(chunk)) got.push(decodeReply(m));
        if (got.length === names.length) {
          conn.end();
          resolve(got);
        }
      });
      conn.on('error', reject);
      // Split mid-message: the server must reassemble.
      conn.write(wire.subarray(0, 7));
      setTimeout(() => conn.write(wire.subarray(7)), 20);
    });
    assert.deepEqual(replies.map((r) => [r.id, r.rcode]), [[100, 'NOERROR'], [101, 'NOERROR'], [102, 'NXDOMAIN']]);
  } finally {
    ac.abort();
    await server.closed;
  }
});

/** A list+watch client over fixed objects, with a hook to push watch events. */
function listWatchClient(initial: Record<string, KubeObject[]>) {
  const queues = new Map<string, WatchEvent[]>();
  const wakers = new Map<string, () => void>();
  const client = {
    list: async (ref: ResourceRef) => ({ metadata: { resourceVersion: '1' }, items: initial[ref.resource] ?? [] }),
    watch: (ref: ResourceRef, options: { signal?: AbortSignal }) => ({
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const queue = queues.get(ref.resource) ?? [];
          queues.set(ref.resource, queue);
          while (queue.length) yield queue.shift() as WatchEvent;
          if (options.signal?.aborted) return;
          await new Promise<void>((resolve) => {
            wakers.set(ref.resource, resolve);
            options.signal?.addEventListener('abort', () => resolve(), { once: true });
          });
        }
      },
    }),
  } as unknown as Client;
  const push = (resource: string, event: WatchEvent) => {
    const queue = queues.get(resource) ?? [];
    queues.set(resource, queue);
    queue.push(event);
    wakers.get(resource)?.();
  };
  return { client, push };
}

test('until the informers have synced, cluster names answer SERVFAIL (not a false NXDOMAIN)', async () => {
  const ac = new AbortController();
  const server = await startDnsServer({ index: sampleIndex(), listen: [], synced: new Promise(() => {}), signal: ac.signal });
  const decode = (b: unknown) => decodeReply(b as Buffer);
  assert.equal(decode(server.handle(query('svc1.testns.svc.cluster.local', 'A'), 'udp')).rcode, 'SERVFAIL');
  assert.equal(decode(server.handle(query('example.com', 'A'), 'udp')).rcode, 'REFUSED');
  ac.abort();
  await server.closed;
});

test('startClusterDns: informers feed the index; REFUSED outside the cluster without upstream', async () => {
  const { client, push } = listWatchClient({
    namespaces: [{ metadata: { name: 'default' } }],
    services: [service('default', 'web', { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5'], ports: [{ port: 80 }] })],
    endpointslices: [],
  });
  const ac = new AbortController();
  const dns = await startClusterDns({ client, listen: [{ address: '127.0.0.1', port: 0 }], clusterDomain: 'cluster.local', upstream: false, signal: ac.signal });
  try {
    assert.equal(await dns.synced, true);
    const port = dns.addresses[0].port;
    assert.deepEqual(rrs((await udpAsk(port, query('web.default.svc.cluster.local', 'A'))).answers), ['web.default.svc.cluster.local 5 A 10.96.5.5']);
    assert.equal((await udpAsk(port, query('example.com', 'A'))).rcode, 'REFUSED');
    const headless = service('default', 'db', { clusterIP: 'None' });
    push('services', { type: 'ADDED', object: { ...headless, metadata: { ...headless.metadata, resourceVersion: '2' } } });
    const eps = slice('default', 'db', 'db-x', [{ ip: '10.244.0.7', hostname: 'db-0' }]);
    push('endpointslices', { type: 'ADDED', object: { ...eps, metadata: { ...eps.metadata, resourceVersion: '3' } } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(rrs((await udpAsk(port, query('db-0.db.default.svc.cluster.local', 'A'))).answers), ['db-0.db.default.svc.cluster.local 5 A 10.244.0.7']);
  } finally {
    ac.abort();
    await dns.closed;
  }
});

const inTestNetns = process.env.SKIFF_NETNS === '1' && process.getuid?.() === 0;

test('addDnsAddress: the kube-dns IP on a dummy interface, answering there', { skip: !inTestNetns && 'needs the fresh network namespace npm test makes' }, async () => {
  const device = await addDnsAddress({ address: '10.96.0.10', device: 'skiff-dns-t' });
  assert.equal(await addDnsAddress({ address: '10.96.0.10', device: 'skiff-dns-t' }), device); // idempotent
  const ac = new AbortController();
  const server = await startDnsServer({ index: sampleIndex(), listen: [{ address: '10.96.0.10', port: 0 }], signal: ac.signal });
  try {
    assert.match(execFileSync('ip', ['-o', 'addr', 'show', 'dev', device], { encoding: 'utf8' }), /10\.96\.0\.10\/32/);
    const r = await udpAsk(server.addresses[0].port, query('svc1.testns.svc.cluster.local', 'A'), '10.96.0.10');
    assert.equal(r.answers.length, 1);
  } finally {
    ac.abort();
    await server.closed;
    await removeDnsAddress({ address: '10.96.0.10', device: 'skiff-dns-t' });
    await removeDnsAddress({ address: '10.96.0.10', device: 'skiff-dns-t' }); // absent is fine
    assert.doesNotMatch(execFileSync('ip', ['-o', 'addr'], { encoding: 'utf8' }), /10\.96\.0\.10/);
  }
});

test('reusePort: a UDP-only replica shares the port and answers from its followed index', async () => {
  const ac = new AbortController();
  const primaryIndex = sampleIndex();
  const publisher = new ZonePublisher(primaryIndex);
  const { port1, port2 } = new MessageChannel();
  publisher.add(port1);
  publisher.markSynced();
  const replica = await followZone(port2, 'cluster.local');
  await replica.synced;
  let replicaLookups = 0;
  const lookupKey = replica.index.lookupKey.bind(replica.index);
  replica.index.lookupKey = (key: string) => {
    replicaLookups++;
    return lookupKey(key);
  };
  const primary = await startDnsServer({ index: primaryIndex, listen: [{ address: '127.0.0.1', port: 0 }], reusePort: true, signal: ac.signal });
  const second = await startDnsServer({ index: replica.index, listen: primary.addresses, reusePort: true, udpOnly: true, signal: ac.signal });
  try {
    assert.deepEqual(second.addresses, primary.addresses);
    // Each query from its own socket (source port): the kernel spreads them over both.
    const replies = await Promise.all(Array.from({ length: 32 }, (_, i) => udpAsk(primary.addresses[0].port, query('svc1.testns.svc.cluster.local', 'A', { id: i }))));
    for (const r of replies) assert.deepEqual(rrs(r.answers), ['svc1.testns.svc.cluster.local 5 A 10.0.0.1']);
    assert.ok(replicaLookups > 0 && replicaLookups < 32, `replica answered ${replicaLookups} of 32`);
  } finally {
    ac.abort();
    publisher.close();
    port2.close();
    await Promise.all([primary.closed, second.closed]);
  }
});
