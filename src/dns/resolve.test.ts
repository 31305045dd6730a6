import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import packet from 'dns-packet';
import { ask, decodeReply, handlerFor, query, rrs, sampleIndex, service, slice } from './fixtures.test-helpers.ts';
import type { DnsServer } from './server.ts';

const SOA = /^cluster\.local 5 SOA ns\.dns\.cluster\.local hostmaster\.cluster\.local 7200 1800 86400 5$/;
const flagsOf = (p: { flags: number }) => p.flags;

describe('cluster zone answers (CoreDNS semantics)', () => {
  let server: DnsServer;
  let stop: () => Promise<void>;
  before(async () => {
    ({ server, stop } = await handlerFor(sampleIndex()));
  });
  after(() => stop());

  test('ClusterIP service: A with TTL 5, authoritative, RD echoed, no RA', async () => {
    const r = await ask(server, 'svc1.testns.svc.cluster.local', 'A', { id: 777 });
    assert.equal(r.id, 777);
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(rrs(r.answers), ['svc1.testns.svc.cluster.local 5 A 10.0.0.1']);
    assert.ok(flagsOf(r) & packet.AUTHORITATIVE_ANSWER);
    assert.ok(flagsOf(r) & packet.RECURSION_DESIRED);
    assert.equal(flagsOf(r) & packet.RECURSION_AVAILABLE, 0);
    assert.equal(r.authorities.length, 0);
  });

  test('existing name, other type: NODATA (NOERROR, SOA in authority)', async () => {
    for (const [name, type] of [
      ['svc1.testns.svc.cluster.local', 'AAAA'],
      ['svc1.testns.svc.cluster.local', 'TXT'],
      ['svc1.testns.svc.cluster.local', 'SOA'],
      ['svc.cluster.local', 'A'],
      ['pod.cluster.local', 'A'],
      ['testns.svc.cluster.local', 'A'],
      ['testns.svc.cluster.local', 'NS'],
    ] as const) {
      const r = await ask(server, name, type);
      assert.equal(r.rcode, 'NOERROR', `${name} ${type}`);
      assert.equal(r.answers.length, 0, `${name} ${type}`);
      assert.match(rrs(r.authorities)[0], SOA, `${name} ${type}`);
    }
  });

  test('missing names: NXDOMAIN with SOA (unknown service, namespace, endpoint, too long, headless without endpoints)', async () => {
    for (const name of [
      'svc0.testns.svc.cluster.local',
      'svc0.svc-nons.svc.cluster.local',
      'nons.svc.cluster.local',
      'bogusendpoint.hdls1.testns.svc.cluster.local',
      'bogusendpoint.svc0.testns.svc.cluster.local',
      'endpoint.external.testns.svc.cluster.local',
      'a.b.c.hdls1.testns.svc.cluster.local',
      'empty.testns.svc.cluster.local',
      'foo.cluster.local',
    ]) {
      const r = await ask(server, name, 'A');
      assert.equal(r.rcode, 'NXDOMAIN', name);
      assert.ok(flagsOf(r) & packet.AUTHORITATIVE_ANSWER);
      assert.match(rrs(r.authorities)[0], SOA, name);
    }
    assert.equal((await ask(server, 'foo.svc.cluster.local', 'NS')).rcode, 'NXDOMAIN');
  });

  test('SOA serial is the time of the last change', async () => {
    const r = await ask(server, 'cluster.local', 'SOA');
    const soa = r.answers[0] as { data: { serial: number } };
    assert.ok(Math.abs(soa.data.serial - Date.now() / 1000) < 60);
  });

  test('headless service: ready endpoint addresses (not-ready left out)', async () => {
    const r = await ask(server, 'hdls1.testns.svc.cluster.local', 'A');
    assert.deepEqual(
      rrs(r.answers).sort(),
      ['172.0.0.2', '172.0.0.3', '172.0.0.4', '172.0.0.5'].map((ip) => `hdls1.testns.svc.cluster.local 5 A ${ip}`),
    );
  });

  test('publishNotReadyAddresses publishes endpoints that are not ready', async () => {
    const r = await ask(server, 'unready.testns.svc.cluster.local', 'A');
    assert.deepEqual(rrs(r.answers), ['unready.testns.svc.cluster.local 5 A 10.244.3.3']);
  });

  test('endpoint names: hostname (StatefulSet pods) or the dashed address', async () => {
    assert.deepEqual(rrs((await ask(server, 'web-0.web.testns.svc.cluster.local', 'A')).answers), [
      'web-0.web.testns.svc.cluster.local 5 A 10.244.1.10',
    ]);
    assert.deepEqual(rrs((await ask(server, '172-0-0-2.hdls1.testns.svc.cluster.local', 'A')).answers), [
      '172-0-0-2.hdls1.testns.svc.cluster.local 5 A 172.0.0.2',
    ]);
    assert.deepEqual(rrs((await ask(server, 'dup-name.hdls1.testns.svc.cluster.local', 'A')).answers).sort(), [
      'dup-name.hdls1.testns.svc.cluster.local 5 A 172.0.0.4',
      'dup-name.hdls1.testns.svc.cluster.local 5 A 172.0.0.5',
    ]);
    // An endpoint with a hostname is not also named by its address (CoreDNS).
    assert.equal((await ask(server, '172-0-0-4.hdls1.testns.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
  });

  test('SRV for a ClusterIP service: one target, the service name, address in additional', async () => {
    const r = await ask(server, '_http._tcp.svc1.testns.svc.cluster.local', 'SRV');
    assert.deepEqual(rrs(r.answers), ['_http._tcp.svc1.testns.svc.cluster.local 5 SRV 0 100 80 svc1.testns.svc.cluster.local']);
    assert.deepEqual(rrs(r.additionals), ['svc1.testns.svc.cluster.local 5 A 10.0.0.1']);
    const udp = await ask(server, '_dns._udp.svc1.testns.svc.cluster.local', 'SRV');
    assert.deepEqual(rrs(udp.answers), ['_dns._udp.svc1.testns.svc.cluster.local 5 SRV 0 100 53 svc1.testns.svc.cluster.local']);
    assert.equal((await ask(server, '_http._udp.svc1.testns.svc.cluster.local', 'SRV')).rcode, 'NXDOMAIN');
    // The bare service name: one SRV per port, weights split.
    const bare = await ask(server, 'svc1.testns.svc.cluster.local', 'SRV');
    assert.deepEqual(rrs(bare.answers).sort(), [
      'svc1.testns.svc.cluster.local 5 SRV 0 50 53 svc1.testns.svc.cluster.local',
      'svc1.testns.svc.cluster.local 5 SRV 0 50 80 svc1.testns.svc.cluster.local',
    ]);
    assert.deepEqual(rrs(bare.additionals), ['svc1.testns.svc.cluster.local 5 A 10.0.0.1']);
  });

  test('SRV for a headless service: one per endpoint, named by hostname or address', async () => {
    const r = await ask(server, '_http._tcp.hdls1.testns.svc.cluster.local', 'SRV');
    assert.deepEqual(rrs(r.answers).sort(), [
      '_http._tcp.hdls1.testns.svc.cluster.local 5 SRV 0 25 80 172-0-0-2.hdls1.testns.svc.cluster.local',
      '_http._tcp.hdls1.testns.svc.cluster.local 5 SRV 0 25 80 172-0-0-3.hdls1.testns.svc.cluster.local',
      '_http._tcp.hdls1.testns.svc.cluster.local 5 SRV 0 25 80 dup-name.hdls1.testns.svc.cluster.local',
    ]);
    assert.deepEqual(rrs(r.additionals).sort(), [
      '172-0-0-2.hdls1.testns.svc.cluster.local 5 A 172.0.0.2',
      '172-0-0-3.hdls1.testns.svc.cluster.local 5 A 172.0.0.3',
      'dup-name.hdls1.testns.svc.cluster.local 5 A 172.0.0.4',
      'dup-name.hdls1.testns.svc.cluster.local 5 A 172.0.0.5',
    ]);
    const web = await ask(server, '_web._tcp.web.testns.svc.cluster.local', 'SRV');
    assert.deepEqual(rrs(web.answers).sort(), [
      '_web._tcp.web.testns.svc.cluster.local 5 SRV 0 50 8080 web-0.web.testns.svc.cluster.local',
      '_web._tcp.web.testns.svc.cluster.local 5 SRV 0 50 8080 web-1.web.testns.svc.cluster.local',
    ]);
  });

  test('PTR: ClusterIPs name their service, endpoint addresses their endpoint name', async () => {
    assert.deepEqual(rrs((await ask(server, '1.0.0.10.in-addr.arpa', 'PTR')).answers), [
      '1.0.0.10.in-addr.arpa 5 PTR svc1.testns.svc.cluster.local',
    ]);
    assert.deepEqual(rrs((await ask(server, '10.1.244.10.in-addr.arpa', 'PTR')).answers), [
      '10.1.244.10.in-addr.arpa 5 PTR web-0.web.testns.svc.cluster.local',
    ]);
    assert.deepEqual(rrs((await ask(server, '2.0.0.172.in-addr.arpa', 'PTR')).answers), [
      '2.0.0.172.in-addr.arpa 5 PTR 172-0-0-2.hdls1.testns.svc.cluster.local',
    ]);
    // Unknown addresses are not ours: forwarded, or REFUSED without upstream.
    assert.equal((await ask(server, '9.9.9.9.in-addr.arpa', 'PTR')).rcode, 'REFUSED');
  });

  test('pod records: any well-formed address in an existing namespace ("pods insecure")', async () => {
    assert.deepEqual(rrs((await ask(server, '10-244-1-5.testns.pod.cluster.local', 'A')).answers), [
      '10-244-1-5.testns.pod.cluster.local 5 A 10.244.1.5',
    ]);
    const nodata = await ask(server, '10-244-1-5.testns.pod.cluster.local', 'AAAA');
    assert.equal(nodata.rcode, 'NOERROR');
    assert.equal(nodata.answers.length, 0);
    assert.equal((await ask(server, '10-244-1-5.nons.pod.cluster.local', 'A')).rcode, 'NXDOMAIN');
    assert.equal((await ask(server, 'blah.testns.pod.cluster.local', 'A')).rcode, 'NXDOMAIN');
    assert.equal((await ask(server, '10-244-1-300.testns.pod.cluster.local', 'A')).rcode, 'NXDOMAIN');
    assert.deepEqual(rrs((await ask(server, 'fd00--5.testns.pod.cluster.local', 'AAAA')).answers), ['fd00--5.testns.pod.cluster.local 5 AAAA fd00::5']);
  });

  test('ExternalName: CNAME; an in-cluster target is followed', async () => {
    const cname = await ask(server, 'external.testns.svc.cluster.local', 'CNAME');
    assert.deepEqual(rrs(cname.answers), ['external.testns.svc.cluster.local 5 CNAME ext.interwebs.test']);
    const a = await ask(server, 'external.testns.svc.cluster.local', 'A');
    assert.deepEqual(rrs(a.answers), ['external.testns.svc.cluster.local 5 CNAME ext.interwebs.test']);
    const inside = await ask(server, 'ext-to-svc.testns.svc.cluster.local', 'A');
    assert.deepEqual(rrs(inside.answers), [
      'ext-to-svc.testns.svc.cluster.local 5 CNAME svc1.testns.svc.cluster.local',
      'svc1.testns.svc.cluster.local 5 A 10.0.0.1',
    ]);
  });

  test('dns-version TXT, apex NS with the kube-dns address, apex SOA', async () => {
    assert.deepEqual(rrs((await ask(server, 'dns-version.cluster.local', 'TXT')).answers), ['dns-version.cluster.local 28800 TXT 1.1.0']);
    const ns = await ask(server, 'cluster.local', 'NS');
    assert.deepEqual(rrs(ns.answers), ['cluster.local 5 NS ns.dns.cluster.local']);
    assert.deepEqual(rrs(ns.additionals), ['ns.dns.cluster.local 5 A 10.96.0.10']);
    assert.match(rrs((await ask(server, 'cluster.local', 'SOA')).answers)[0], SOA);
  });

  test('names are case-insensitive and the reply keeps the client spelling', async () => {
    const r = await ask(server, 'SVC1.TestNS.svc.Cluster.Local', 'A');
    assert.equal(r.questions[0].name, 'SVC1.TestNS.svc.Cluster.Local');
    assert.deepEqual(rrs(r.answers), ['SVC1.TestNS.svc.Cluster.Local 5 A 10.0.0.1']);
    const nx = await ask(server, 'NOPE.TestNS.svc.Cluster.Local', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.authorities[0].name, 'Cluster.Local');
  });

  test('ndots:5 search-path misses are NXDOMAIN; names outside the cluster are REFUSED without upstream', async () => {
    for (const name of ['example.com.testns.svc.cluster.local', 'example.com.svc.cluster.local', 'example.com.cluster.local']) {
      assert.equal((await ask(server, name, 'A')).rcode, 'NXDOMAIN', name);
    }
    const out = await ask(server, 'example.com', 'A');
    assert.equal(out.rcode, 'REFUSED');
    assert.equal(out.questions[0].name, 'example.com');
  });

  test('EDNS: OPT echoed with our payload size and the DO bit', async () => {
    const r = await ask(server, 'svc1.testns.svc.cluster.local', 'A', { edns: 4096, dnssecOk: true });
    const opt = r.additionals.find((a) => a.type === 'OPT') as { udpPayloadSize: number; flags: number } | undefined;
    assert.ok(opt);
    assert.equal(opt.udpPayloadSize, 1232);
    assert.ok(opt.flags & packet.DNSSEC_OK);
    const nx = await ask(server, 'nope.testns.svc.cluster.local', 'A', { edns: 1232 });
    assert.deepEqual(rrs(nx.additionals), ['OPT']);
    const badvers = await ask(server, 'svc1.testns.svc.cluster.local', 'A', { edns: 1232, ednsVersion: 1 });
    // BADVERS is 16: the upper bits travel in OPT's extended rcode.
    assert.equal((badvers.additionals[0] as unknown as { extendedRcode: number }).extendedRcode, 1);
    assert.equal(badvers.answers.length, 0);
  });

  test('malformed and unsupported queries', async () => {
    const two = query('svc1.testns.svc.cluster.local', 'A');
    two.writeUInt16BE(2, 4);
    assert.equal(decodeReply((await server.handle(two, 'udp')) as Buffer).rcode, 'FORMERR');
    const notify = query('svc1.testns.svc.cluster.local', 'A');
    notify.writeUInt16BE(0x2000, 2);
    assert.equal(decodeReply((await server.handle(notify, 'udp')) as Buffer).rcode, 'NOTIMP');
    const response = query('svc1.testns.svc.cluster.local', 'A');
    response.writeUInt16BE(0x8000, 2);
    assert.equal(server.handle(response, 'udp'), undefined);
    assert.equal(server.handle(Buffer.alloc(5), 'udp'), undefined);
  });
});

describe('truncation', () => {
  test('a big headless answer: TC over 512 bytes without EDNS, up to the EDNS size, whole over TCP', async () => {
    const index = sampleIndex();
    index.upsertService(service('default', 'big', { clusterIP: 'None' }));
    const endpoints = Array.from({ length: 200 }, (_, i) => ({ ip: `10.250.${i >> 8}.${i & 255}` }));
    index.upsertSlice(slice('default', 'big', 'big-1', endpoints));
    const { server, stop } = await handlerFor(index);
    try {
      const plain = await ask(server, 'big.default.svc.cluster.local', 'A');
      assert.ok(plain.raw.length <= 512);
      assert.ok(plain.flag_tc);
      // Owner names are compressed: about 16 bytes per A record.
      assert.ok(plain.answers.length >= 25, `${plain.answers.length} answers in 512 bytes`);
      const edns = await ask(server, 'big.default.svc.cluster.local', 'A', { edns: 4096 });
      assert.ok(edns.raw.length <= 1232 && edns.raw.length > 1100);
      assert.ok(edns.flag_tc);
      assert.equal(edns.additionals.at(-1)?.type, 'OPT');
      const tcp = await ask(server, 'big.default.svc.cluster.local', 'A', { tcp: true });
      assert.equal(tcp.answers.length, 200);
      assert.ok(!tcp.flag_tc);
      // Small answers are not truncated.
      assert.ok(!(await ask(server, 'svc1.testns.svc.cluster.local', 'A')).flag_tc);
    } finally {
      await stop();
    }
  });
});

describe('index updates', () => {
  test('records follow services, slices and namespaces', async () => {
    const index = sampleIndex();
    const { server, stop } = await handlerFor(index);
    try {
      assert.equal((await ask(server, 'svc1.testns.svc.cluster.local', 'A')).rcode, 'NOERROR');
      index.deleteService(service('testns', 'svc1', {}));
      assert.equal((await ask(server, 'svc1.testns.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
      assert.equal((await ask(server, '1.0.0.10.in-addr.arpa', 'PTR')).rcode, 'REFUSED');
      index.upsertSlice(slice('testns', 'web', 'web-1', [{ ip: '10.244.9.9', hostname: 'web-0' }]));
      assert.deepEqual(rrs((await ask(server, 'web.testns.svc.cluster.local', 'A')).answers), ['web.testns.svc.cluster.local 5 A 10.244.9.9']);
      assert.equal((await ask(server, 'web-1.web.testns.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
      index.deleteSlice(slice('testns', 'web', 'web-1', []));
      assert.equal((await ask(server, 'web.testns.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
      index.deleteNamespace({ metadata: { name: 'testns' } });
      assert.equal((await ask(server, 'testns.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
      assert.equal((await ask(server, '10-244-1-5.testns.pod.cluster.local', 'A')).rcode, 'NXDOMAIN');
    } finally {
      await stop();
    }
  });
});
