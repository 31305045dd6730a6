// Cluster DNS against a real `skiff server --simulated-nodes 3`: Services,
// a StatefulSet behind a headless Service, ExternalName and named ports made
// with real kubectl, then queried over UDP and TCP from this process (with
// dns-packet), CoreDNS's answers expected; records follow changes quickly.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import packet, { type Answer, type RecordType } from 'dns-packet';
import { eventually, startServer, type TestServer } from './harness.ts';

/** A fixed port is safe: every e2e file runs in its own network namespace. */
const DNS_PORT = 1053;
/** "Records follow changes within a second": the budget from kubectl returning to DNS answering. */
const FOLLOW_BUDGET_MS = 1000;

type Reply = { id: number; rcode: string; flag_tc: boolean; flags: number; answers: Answer[]; authorities: Answer[]; additionals: Answer[] };

function encodeQuery(name: string, type: RecordType, id: number, edns?: number): Buffer {
  return packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: (edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns }] : []) as Answer[],
  });
}

let nextId = 1;
function udp(name: string, type: RecordType = 'A', edns?: number): Promise<Reply> {
  const id = nextId++ & 0xffff;
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no reply for ${name}`));
    }, 2000);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(packet.decode(msg) as unknown as Reply);
    });
    socket.send(encodeQuery(name, type, id, edns), DNS_PORT, '127.0.0.1');
  });
}

/** Several queries pipelined on one TCP connection. */
function tcp(questions: [string, RecordType][]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const conn = connect({ host: '127.0.0.1', port: DNS_PORT });
    let buffered = Buffer.alloc(0);
    const replies: Reply[] = [];
    conn.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        replies.push(packet.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))) as unknown as Reply);
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
      if (replies.length === questions.length) {
        conn.end();
        resolve(replies.sort((a, b) => a.id - b.id));
      }
    });
    conn.on('error', reject);
    conn.write(
      Buffer.concat(
        questions.map(([name, type], i) => {
          const q = encodeQuery(name, type, 1000 + i);
          return Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q]);
        }),
      ),
    );
  });
}

const data = (list: Answer[], type: string) => list.filter((a) => a.type === type).map((a) => (a as { data: unknown }).data);
const ips = (r: Reply) => (data(r.answers, 'A') as string[]).sort();

const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

describe('cluster DNS', () => {
  let s: TestServer;
  const jsonpath = (args: string[], path: string) => s.k(['get', ...args, '-o', `jsonpath=${path}`]);

  before(async () => {
    s = await startServer(['--simulated-nodes', '3', '--no-upstream-dns', '--dns-port', String(DNS_PORT)]);
    await s.k(['create', 'namespace', 'shop']);
    await s.k(
      ['apply', '-f', '-'],
      list([
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'api', namespace: 'shop' },
          spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9090, protocol: 'TCP' }] },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'api', namespace: 'shop' },
          spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.14.2' }] } } },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'db', namespace: 'shop' },
          spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: 'db', namespace: 'shop' },
          spec: {
            replicas: 3,
            serviceName: 'db',
            podManagementPolicy: 'Parallel',
            selector: { matchLabels: { app: 'db' } },
            template: { metadata: { labels: { app: 'db' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'nginx:1.14.2' }] } },
          },
        },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'search', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'search.example.com' } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'alias', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'api.shop.svc.cluster.local' } },
      ]),
    );
  });
  after(() => s?.stop());

  test('ClusterIP service: A is the ClusterIP; PTR names the service; named ports have SRV', async () => {
    const clusterIp = await jsonpath(['svc', 'api', '-n', 'shop'], '{.spec.clusterIP}');
    const a = await eventually(async () => {
      const r = await udp('api.shop.svc.cluster.local');
      return r.rcode === 'NOERROR' && r;
    }, 10_000, 'api A');
    assert.deepEqual(ips(a), [clusterIp]);
    assert.equal((a.answers[0] as { ttl?: number }).ttl, 5);
    const ptr = await udp(`${clusterIp.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR');
    assert.deepEqual(data(ptr.answers, 'PTR'), ['api.shop.svc.cluster.local']);
    const srv = await udp('_metrics._tcp.api.shop.svc.cluster.local', 'SRV');
    assert.deepEqual(data(srv.answers, 'SRV'), [{ priority: 0, weight: 100, port: 9090, target: 'api.shop.svc.cluster.local' }]);
    assert.deepEqual(data(srv.additionals, 'A'), [clusterIp]);
    // kubernetes and kube-dns exist from the start.
    assert.deepEqual(ips(await udp('kubernetes.default.svc.cluster.local')), ['10.96.0.1']);
    assert.deepEqual(ips(await udp('kube-dns.kube-system.svc.cluster.local')), ['10.96.0.10']);
  });

  test('headless service over a StatefulSet: pod IPs, per-pod names, SRV per pod, pod PTR', async () => {
    const podIps = await eventually(async () => {
      const out = await jsonpath(['pods', '-n', 'shop', '-l', 'app=db'], '{range .items[*]}{.metadata.name}={.status.podIP}{"\\n"}{end}');
      const pairs = out.split('\n').filter((l) => /=\d/.test(l));
      return pairs.length === 3 && (Object.fromEntries(pairs.map((l) => l.split('='))) as Record<string, string>);
    }, 20_000, 'three db pods with IPs');
    const headless = await eventually(async () => {
      const r = await udp('db.shop.svc.cluster.local');
      return r.answers.length === 3 && r;
    }, 10_000, 'db headless A');
    assert.deepEqual(ips(headless), Object.values(podIps).sort());
    for (const [pod, ip] of Object.entries(podIps)) {
      assert.deepEqual(ips(await udp(`${pod}.db.shop.svc.cluster.local`)), [ip], pod);
      const ptr = await udp(`${ip.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR');
      assert.deepEqual(data(ptr.answers, 'PTR'), [`${pod}.db.shop.svc.cluster.local`]);
    }
    const srv = await udp('_pg._tcp.db.shop.svc.cluster.local', 'SRV');
    const targets = (data(srv.answers, 'SRV') as { port: number; target: string; weight: number }[]).map((x) => `${x.target}:${x.port}:${x.weight}`).sort();
    assert.deepEqual(targets, ['db-0', 'db-1', 'db-2'].map((p) => `${p}.db.shop.svc.cluster.local:5432:33`));
    assert.equal(data(srv.additionals, 'A').length, 3);
    // Pod records for any pod address.
    const anyIp = Object.values(podIps)[0];
    assert.deepEqual(ips(await udp(`${anyIp.replaceAll('.', '-')}.shop.pod.cluster.local`)), [anyIp]);
  });

  test('ExternalName: CNAME; an in-cluster target is followed to its address', async () => {
    const r = await eventually(async () => {
      const x = await udp('search.shop.svc.cluster.local', 'CNAME');
      return x.answers.length > 0 && x;
    }, 10_000, 'ExternalName CNAME');
    assert.deepEqual(data(r.answers, 'CNAME'), ['search.example.com']);
    const clusterIp = await jsonpath(['svc', 'api', '-n', 'shop'], '{.spec.clusterIP}');
    const alias = await udp('alias.shop.svc.cluster.local', 'A');
    assert.deepEqual(data(alias.answers, 'CNAME'), ['api.shop.svc.cluster.local']);
    assert.deepEqual(ips(alias), [clusterIp]);
  });

  test('NXDOMAIN vs NODATA, the search-path misses, REFUSED outside with --no-upstream-dns', async () => {
    const nodata = await udp('api.shop.svc.cluster.local', 'AAAA');
    assert.equal(nodata.rcode, 'NOERROR');
    assert.equal(nodata.answers.length, 0);
    assert.equal(nodata.authorities[0].type, 'SOA');
    for (const name of ['nosuch.shop.svc.cluster.local', 'example.com.shop.svc.cluster.local', 'example.com.svc.cluster.local', 'example.com.cluster.local', 'nosuch.nons.svc.cluster.local']) {
      const r = await udp(name);
      assert.equal(r.rcode, 'NXDOMAIN', name);
      assert.equal(r.authorities[0].type, 'SOA', name);
    }
    assert.equal((await udp('example.com')).rcode, 'REFUSED');
    assert.equal((await udp('shop.svc.cluster.local')).rcode, 'NOERROR');
  });

  test('TCP with pipelined queries, and EDNS', async () => {
    const clusterIp = await jsonpath(['svc', 'api', '-n', 'shop'], '{.spec.clusterIP}');
    const replies = await tcp([
      ['api.shop.svc.cluster.local', 'A'],
      ['db.shop.svc.cluster.local', 'A'],
      ['nosuch.shop.svc.cluster.local', 'A'],
    ]);
    assert.deepEqual(ips(replies[0]), [clusterIp]);
    assert.equal(replies[1].answers.length, 3);
    assert.equal(replies[2].rcode, 'NXDOMAIN');
    const edns = await udp('api.shop.svc.cluster.local', 'A', 4096);
    assert.ok(edns.additionals.some((a) => a.type === 'OPT'));
  });

  test('records follow changes within a second', async (t) => {
    // A new Service appears…
    await s.k(['create', 'service', 'clusterip', 'fresh', '-n', 'shop', '--tcp', '8080:8080']);
    let started = Date.now();
    const ip = await jsonpath(['svc', 'fresh', '-n', 'shop'], '{.spec.clusterIP}');
    await eventually(async () => ips(await udp('fresh.shop.svc.cluster.local'))[0] === ip, 5000, 'new service in DNS');
    const appeared = Date.now() - started;
    // …a StatefulSet scaled down loses its pod's records…
    await s.k(['scale', 'statefulset', 'db', '-n', 'shop', '--replicas', '2']);
    await eventually(async () => (await s.kubectl(['get', 'pod', 'db-2', '-n', 'shop'])).code !== 0, 20_000, 'db-2 gone');
    await eventually(async () => (await jsonpath(['endpointslices', '-n', 'shop', '-l', 'kubernetes.io/service-name=db'], '{.items[*].endpoints[*].hostname}')).split(' ').length === 2, 10_000, 'db slice at 2');
    started = Date.now();
    await eventually(async () => (await udp('db-2.db.shop.svc.cluster.local')).rcode === 'NXDOMAIN', 5000, 'db-2 record gone');
    const removedEndpoint = Date.now() - started;
    // …and a deleted Service is gone.
    await s.k(['delete', 'service', 'fresh', '-n', 'shop']);
    started = Date.now();
    await eventually(async () => (await udp('fresh.shop.svc.cluster.local')).rcode === 'NXDOMAIN', 5000, 'deleted service gone');
    const deleted = Date.now() - started;
    t.diagnostic(`new service ${appeared} ms (with a kubectl get), endpoint removed ${removedEndpoint} ms, service deleted ${deleted} ms`);
    assert.ok(appeared < FOLLOW_BUDGET_MS + 1000, `new service took ${appeared} ms (including a kubectl get)`);
    assert.ok(removedEndpoint < FOLLOW_BUDGET_MS, `endpoint removal took ${removedEndpoint} ms after the slice changed`);
    assert.ok(deleted < FOLLOW_BUDGET_MS, `service deletion took ${deleted} ms`);
  });
});
