import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import packet, { type Answer } from 'dns-packet';
import { ask, handlerFor, rrs, sampleIndex } from './fixtures.test-helpers.ts';
import type { DnsServer } from './server.ts';
import { frame, TcpFramer } from './tcp-framing.ts';
import { UpstreamResolver, upstreamsFromResolvConf } from './upstream.ts';

/** A fake upstream resolver on loopback (UDP and TCP on one port), counting the questions it gets. */
async function fakeUpstream() {
  const hits = new Map<string, number>();
  const answer = (msg: Buffer, transport: 'udp' | 'tcp'): Buffer => {
    const q = packet.decode(msg);
    const question = q.questions![0];
    const name = question.name.toLowerCase();
    hits.set(name, (hits.get(name) ?? 0) + 1);
    const reply = { type: 'response' as const, id: q.id, flags: packet.RECURSION_AVAILABLE | packet.RECURSION_DESIRED, questions: q.questions, answers: [] as Answer[], authorities: [] as Answer[] };
    if (name === 'example.com' || name === 'ext.interwebs.test') {
      reply.answers.push({ name, type: 'A', ttl: 60, class: 'IN', data: name === 'example.com' ? '93.184.216.34' : '1.2.3.4' });
    } else if (name === 'big.example') {
      if (transport === 'udp') return packet.encode({ ...reply, flags: reply.flags | packet.TRUNCATED_RESPONSE });
      for (let i = 0; i < 100; i++) reply.answers.push({ name, type: 'A', ttl: 60, class: 'IN', data: `10.9.0.${i}` });
    } else {
      const soa: Answer = { name: 'example', type: 'SOA', ttl: 300, class: 'IN', data: { mname: 'ns.example', rname: 'h.example', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 30 } };
      reply.authorities.push(soa);
      return packet.encode({ ...reply, flags: reply.flags | 3 }); // rcode NXDOMAIN
    }
    return packet.encode(reply);
  };
  const tcp = createServer((conn) => {
    const framer = new TcpFramer();
    conn.on('data', (chunk) => {
      for (const msg of framer.push(chunk)) conn.write(frame(answer(msg, 'tcp')));
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as { port: number }).port;
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(answer(msg, 'udp'), rinfo.port, rinfo.address));
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  const close = () => {
    udp.close();
    tcp.close();
  };
  return { port, hits, close };
}

describe('forwarding to upstream resolvers', () => {
  let up: Awaited<ReturnType<typeof fakeUpstream>>;
  let server: DnsServer;
  let stop: () => Promise<void>;
  before(async () => {
    up = await fakeUpstream();
    const upstream = new UpstreamResolver({ servers: [{ address: '127.0.0.1', port: up.port }] });
    ({ server, stop } = await handlerFor(sampleIndex(), upstream));
  });
  after(async () => {
    await stop();
    up.close();
  });

  test('answers come back with the client ID and spelling, and are cached', async () => {
    const first = await ask(server, 'Example.COM', 'A', { id: 1 });
    assert.equal(first.id, 1);
    assert.equal(first.questions[0].name, 'Example.COM');
    assert.deepEqual(rrs(first.answers), ['example.com 60 A 93.184.216.34']);
    assert.ok((first.flags ?? 0) & packet.RECURSION_AVAILABLE);
    const second = await ask(server, 'example.com', 'A', { id: 2 });
    assert.equal(second.id, 2);
    assert.equal(second.answers.length, 1);
    assert.equal(up.hits.get('example.com'), 1);
    // EDNS clients keep an OPT record; others get none.
    assert.equal(second.additionals.length, 0);
    const edns = await ask(server, 'example.com', 'A', { edns: 1232 });
    assert.deepEqual(rrs(edns.additionals), ['OPT']);
  });

  test('negative answers are cached for the SOA minimum', async () => {
    const r = await ask(server, 'nx.example', 'A');
    assert.equal(r.rcode, 'NXDOMAIN');
    await ask(server, 'nx.example', 'A');
    assert.equal(up.hits.get('nx.example'), 1);
  });

  test('identical queries in flight share one upstream exchange', async () => {
    const replies = await Promise.all([1, 2, 3, 4, 5].map((id) => ask(server, 'ext.interwebs.test', 'A', { id })));
    assert.deepEqual(replies.map((r) => r.id), [1, 2, 3, 4, 5]);
    assert.equal(up.hits.get('ext.interwebs.test'), 1);
  });

  test('a truncated upstream reply is fetched again over TCP, then cut to the client size', async () => {
    const tcp = await ask(server, 'big.example', 'A', { tcp: true });
    assert.equal(tcp.answers.length, 100);
    assert.ok(!tcp.flag_tc);
    const udp = await ask(server, 'big.example', 'A');
    assert.ok(udp.raw.length <= 512);
    assert.ok(udp.flag_tc);
    assert.equal(up.hits.get('big.example'), 2); // UDP (truncated), then TCP; the second ask is from the cache
  });

  test('ExternalName targets outside the cluster are resolved upstream after the CNAME', async () => {
    const r = await ask(server, 'external.testns.svc.cluster.local', 'A');
    assert.deepEqual(rrs(r.answers), ['external.testns.svc.cluster.local 5 CNAME ext.interwebs.test', 'ext.interwebs.test 60 A 1.2.3.4']);
  });

  test('cluster names never go upstream', async () => {
    const before = [...up.hits.values()].reduce((a, b) => a + b, 0);
    assert.equal((await ask(server, 'nope.testns.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
    assert.equal([...up.hits.values()].reduce((a, b) => a + b, 0), before);
  });
});

test('an upstream that does not answer gives SERVFAIL', async () => {
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const upstream = new UpstreamResolver({ servers: [{ address: '127.0.0.1', port: silent.address().port }] });
  const { server, stop } = await handlerFor(sampleIndex(), upstream);
  try {
    assert.equal((await ask(server, 'example.org', 'A')).rcode, 'SERVFAIL');
  } finally {
    await stop();
    silent.close();
  }
});

test('resolv.conf: nameserver lines, minus our own addresses', () => {
  const text = '# comment\nsearch example\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:5\nnameserver 10.96.0.10\n';
  assert.deepEqual(upstreamsFromResolvConf(text, ['10.96.0.10']), [
    { address: '127.0.0.53', port: 53 },
    { address: 'fe80::1', port: 53 },
  ]);
});
