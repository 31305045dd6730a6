// Service discovery with real containers (issue 6's acceptance): the seed's
// two deployments behind one Service, its VIP answering from both versions
// (from the node and from inside a pod), names resolving inside pods (FQDN,
// short name through the search path, headless, SRV, pod records, NXDOMAIN),
// NodePort and an Ingress on the node IP, and traffic following a scale-down
// within seconds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { canRunContainers } from '../../src/agent/runtime/testing.ts';
import { buildTestImages } from '../images/build.ts';
import { httpGet } from './agent-helpers.ts';
import { eventually, run, startServer, type TestServer } from './harness.ts';

const skip = canRunContainers() ?? false;
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
/** A documentation-range address this test puts on the loopback of its own network namespace, as the node IP. */
const NODE_IP = '192.0.2.10';
const READY_MS = 60_000;

const service = (name: string, spec: object) => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });

describe('service discovery with real containers', { skip }, () => {
  let s: TestServer;
  const json = async (args: string[]) => JSON.parse(await s.k([...args, '-o', 'json']));
  const inPod = (command: string) => s.kubectl(['exec', 'client', '--', 'sh', '-c', command]);
  /** Asks the VIP n times from the node; returns the set of answering pods' hostnames. */
  const answering = async (url: string, n: number) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const page = await httpGet(url);
      const who = /from (\S+)/.exec(page ?? '')?.[1];
      if (who) seen.add(who);
    }
    return seen;
  };

  before(async () => {
    await run('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
    const images = await buildTestImages();
    s = await startServer(['--node-ip', NODE_IP], { agent: true, images: [images.nginx1142, images.nginx1141, images.busybox] });
    await s.k(['apply', '-f', fixture('seed-deployment-v1.yaml')]);
    await s.k(['apply', '-f', fixture('seed-new-deployment.yaml')]);
    await s.k(['apply', '-f', '-'], service('nginx-v1', { selector: { version: 'v1' }, ports: [{ name: 'http', port: 80 }] }));
    await s.k(['apply', '-f', '-'], service('nginx-headless', { clusterIP: 'None', selector: { version: 'v1' }, ports: [{ name: 'http', port: 80 }] }));
    await s.k(['run', 'client', '--image=busybox:latest', '--restart=Never', '--command', '--', 'sleep', '3600']);
    await eventually(
      async () => (await json(['get', 'pods'])).items.filter((p: { status: { phase: string } }) => p.status.phase === 'Running').length === 6,
      READY_MS,
      'six running pods',
    );
  });
  after(async () => {
    await s?.stop();
    await run('ip', ['addr', 'del', `${NODE_IP}/32`, 'dev', 'lo']);
  });

  test('the Service selecting version=v1 has five endpoints, and its VIP answers from both versions', async () => {
    await eventually(
      async () => (await json(['get', 'endpoints', 'nginx-v1'])).subsets?.[0]?.addresses?.length === 5,
      READY_MS,
      'five endpoints',
    );
    const vip = (await json(['get', 'svc', 'nginx-v1'])).spec.clusterIP;
    // The proxy programs the VIP within about a second of the endpoints appearing.
    await eventually(
      async () => {
        const pages = await Promise.all(Array.from({ length: 30 }, () => httpGet(`http://${vip}/`)));
        return pages.some((p) => /nginx 1\.14\.2/.test(p ?? '')) && pages.some((p) => /nginx 1\.14\.1/.test(p ?? ''));
      },
      15_000,
      'both versions answering through the VIP',
    );
    const fromPod = await inPod(`printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc ${vip} 80`);
    assert.match(fromPod.stdout, /nginx 1\.14\.[12] from/, 'the VIP answers from inside a pod too');
  });

  test('names resolve inside pods as the Kubernetes DNS specification says', async () => {
    const vip = (await json(['get', 'svc', 'nginx-v1'])).spec.clusterIP;
    const fqdn = await inPod('nslookup nginx-v1.default.svc.cluster.local');
    assert.match(fqdn.stdout, new RegExp(`Address: ${vip.replaceAll('.', '\\.')}`));
    const short = await inPod('nslookup nginx-v1');
    assert.match(short.stdout, /Name:\s+nginx-v1\.default\.svc\.cluster\.local/, 'the short name resolves through the search path');
    const headless = await inPod('nslookup nginx-headless.default.svc.cluster.local');
    const podIps = (await json(['get', 'pods', '-l', 'version=v1'])).items.map((p: { status: { podIP: string } }) => p.status.podIP);
    for (const ip of podIps) assert.ok(headless.stdout.includes(ip), `headless answer includes ${ip}`);
    const srv = await inPod('nslookup -type=SRV _http._tcp.nginx-v1.default.svc.cluster.local');
    assert.match(srv.stdout, /nginx-v1\.default\.svc\.cluster\.local/);
    assert.match(srv.stdout, /\b80\b/);
    const dashed = podIps[0].replaceAll('.', '-');
    const podRecord = await inPod(`nslookup ${dashed}.default.pod.cluster.local`);
    assert.ok(podRecord.stdout.includes(podIps[0]), 'pod A records');
    const missing = await inPod('nslookup no-such-service.default.svc.cluster.local');
    assert.match(missing.stdout + missing.stderr, /NXDOMAIN/);
  });

  test('NodePort answers on the node IP', async () => {
    await s.k(['apply', '-f', '-'], service('nginx-nodeport', { type: 'NodePort', selector: { version: 'v1' }, ports: [{ port: 80 }] }));
    const nodePort = (await json(['get', 'svc', 'nginx-nodeport'])).spec.ports[0].nodePort;
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    const page = await eventually(async () => httpGet(`http://${NODE_IP}:${nodePort}/`), 10_000, 'NodePort answer');
    assert.match(page, /nginx 1\.14\.[12] from/);
  });

  test('an Ingress serves the pods on the node IP', async () => {
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'nginx-v1', port: { name: 'http' } } } }] } }] },
    };
    await s.k(['apply', '-f', '-'], JSON.stringify(ingress));
    const page = await eventually(async () => httpGet(`http://${NODE_IP}/`), 15_000, 'ingress answer');
    assert.match(page, /nginx 1\.14\.[12] from/);
    await eventually(
      async () => (await json(['get', 'ingress', 'web'])).status?.loadBalancer?.ingress?.some((i: { ip: string }) => i.ip === NODE_IP),
      15_000,
      'ingress status names the node IP',
    );
  });

  test('scaling down removes endpoints and traffic follows within seconds', async () => {
    const vip = (await json(['get', 'svc', 'nginx-v1'])).spec.clusterIP;
    await s.k(['scale', 'deployment/new-nginx-deployment', '--replicas=0']);
    await eventually(
      async () => {
        const seen = await answering(`http://${vip}/`, 12);
        return seen.size > 0 && [...seen].every((who) => who.startsWith('nginx-deployment-'));
      },
      15_000,
      'only nginx-deployment pods answering',
    );
    const endpoints = (await json(['get', 'endpoints', 'nginx-v1'])).subsets[0].addresses.length;
    assert.equal(endpoints, 3);
  });
});
