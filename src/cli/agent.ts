// `skiff agent`: joins this machine to a cluster as a node. Also the wiring
// of the node agent's concrete parts (runc runtime, image store, bridge pod
// network), shared with the agent embedded in `skiff server`.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'node:tls';
import { parseArgs } from 'node:util';
import { importImageDir, LocalImageStore } from '../agent/images/index.ts';
import { runImageGc } from '../agent/kubelet/image-gc.ts';
import { type Agent, preflight, preflightMessage, runcVersion, startAgent } from '../agent/kubelet/index.ts';
import { BridgeNetwork, startHostGwRoutes } from '../agent/network/index.ts';
import { agentStreaming } from '../agent/streaming/index.ts';
import { createRuncRuntime } from '../agent/runtime/runtime.ts';
// The DNS itself runs in worker threads: the agent's own thread loads only their starter and the address set-up.
import { addDnsAddress } from '../dns/node-address.ts';
import { startClusterDnsWorker } from '../dns/worker.ts';
import { startServiceProxy } from '../proxy/index.ts';
import { type Client, createClient } from '../client/index.ts';
import type { TransportOptions } from '../client/http.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { requestServingCert } from './agent-cert.ts';
import { defaultDataDir } from './paths.ts';

const USAGE = `Usage: skiff agent --server URL --token TOKEN [options]

Joins this machine to a cluster as a node: runs the pods scheduled to it.

Options:
  --server URL            the API server (https://HOST:6443)
  --token TOKEN           the join token (<server data-dir>/token); in the form K10<ca-sha256>::<token>
                          it also names the cluster CA, which is then fetched and checked against it
  --ca-file FILE          the cluster CA (<server data-dir>/tls/ca.crt), instead of a K10 token
  --data-dir DIR          state, images, containers (default ${defaultDataDir()})
  --node-ip IP            this node's address (default: the first non-loopback IPv4); the server signs the
                          streaming certificate only for the address the agent reaches it from
  --node-name NAME        this node's name (default: the hostname)
  --cluster-cidr CIDR     the pod network of the cluster (default 10.244.0.0/16)
  --cluster-dns IP        the cluster DNS Service address (default 10.96.0.10)
  --cluster-domain NAME   cluster DNS domain (default cluster.local)
`;

/** Where an agent keeps the CA it was told to trust, so restarts need no --ca-file. */
const PINNED_CA = (dataDir: string) => join(dataDir, 'agent', 'server-ca.pem');
/** k3s' token prefix: K10 followed by the CA bundle's hash. */
const HASHED_TOKEN = /^K10([0-9a-f]{64})::(.+)$/;
/** Fetching the CA is one TLS handshake; a server that does not answer in this time is unreachable. */
const CA_FETCH_TIMEOUT_MS = 10_000;

/** The n-th address of a service CIDR (1: the kubernetes Service, 10: kube-dns). */
export function nthServiceIp(cidr: string, n: number): string {
  const octets = cidr.split('/')[0].split('.').map(Number);
  const value = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) + n;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** The first non-internal IPv4 address of this machine, else loopback. */
export function defaultNodeIp(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export type NodeAgentOptions = {
  client: Client;
  dataDir: string;
  nodeName: string;
  nodeIp: string;
  clusterCidr: string;
  /** The Service CIDR, when known (the server's embedded agent): the service proxy drops unallocated ClusterIPs and routes the range where the node has no route. */
  serviceCidr?: string;
  clusterDns: string[];
  clusterDomain: string;
  /** How the node's DNS worker thread reaches the API server (its own client: the same server, CA and token as `client`). */
  api: TransportOptions;
  /** Forward names outside the cluster to the node's resolvers (off with --no-upstream-dns). */
  upstreamDns?: boolean;
  controlPlane: boolean;
  clusterCaPem?: string;
  /** The agent's streaming port (logs, exec, port-forward, stats): cluster CA and this node's serving certificate; port 0 = any free port. */
  streaming?: { tls: { caPem: string; certPem: string; keyPem: string }; port?: number };
  signal: AbortSignal;
  log: Logger;
};

/** Preflight, the concrete runtime, image store and network, then the agent. Throws with actionable text when the machine cannot run containers. */
export async function runNodeAgent(o: NodeAgentOptions): Promise<Agent> {
  const problems = preflight();
  if (problems.length > 0) throw new Error(preflightMessage(problems));
  const images = new LocalImageStore({ dataDir: o.dataDir, log: o.log.child('images') });
  const imported = await importImageDir(images, join(o.dataDir, 'images'), o.log);
  if (imported.length > 0) o.log.info('images imported', { count: imported.length });
  const runtime = await createRuncRuntime({ dataDir: o.dataDir, log: o.log.child('runtime') });
  const agent = await startAgent({
    client: o.client,
    dataDir: o.dataDir,
    nodeName: o.nodeName,
    nodeIp: o.nodeIp,
    clusterDns: o.clusterDns,
    clusterDomain: o.clusterDomain,
    signal: o.signal,
    log: o.log,
    runtime,
    images,
    network: (podCidr) =>
      new BridgeNetwork({ dataDir: o.dataDir, podCidr, clusterCidr: o.clusterCidr, log: o.log.child('network') }),
    runtimeVersion: `runc://${await runcVersion()}`,
    controlPlane: o.controlPlane,
    clusterCaPem: o.clusterCaPem,
    streaming:
      o.streaming &&
      agentStreaming({ dataDir: o.dataDir, tls: o.streaming.tls, bind: o.nodeIp, port: o.streaming.port ?? 0, signal: o.signal, log: o.log.child('streaming') }),
  });
  // Routes to the other nodes' pod CIDRs (flannel host-gw style): pods reach pods on every node.
  const routes = startHostGwRoutes({ client: o.client, nodeName: o.nodeName, nodeIp: o.nodeIp, signal: o.signal, log: o.log.child('routes') });
  runImageGc({ images, pods: () => agent.pods(), signal: o.signal, log: o.log.child('images') });
  // --- service proxy (Service VIPs and NodePorts in this node's kernel) ---
  const proxy = await startServiceProxy({
    client: o.client,
    nodeName: o.nodeName,
    nodeIps: [o.nodeIp],
    clusterCidr: o.clusterCidr,
    serviceCidr: o.serviceCidr,
    signal: o.signal,
    log: o.log.child('proxy'),
  });
  // --- end service proxy ---
  // --- cluster DNS at the kube-dns address in this node's network namespace, where pods' resolv.conf points ---
  const dnsAddress = o.clusterDns[0];
  await addDnsAddress({ address: dnsAddress });
  const dns = await startClusterDnsWorker({
    api: o.api,
    listen: [{ address: dnsAddress, port: 53 }],
    clusterDomain: o.clusterDomain,
    upstream: o.upstreamDns ?? true,
    signal: o.signal,
    log: o.log.child('dns'),
  });
  // --- end cluster DNS ---
  return { ...agent, stopped: Promise.all([agent.stopped, proxy.stopped, dns.closed, routes.stopped]).then(() => undefined) };
}

/** sha256 of a certificate's DER, hex: what a K10 token names. */
export function caHash(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** The certificates the server sends in its TLS handshake (leaf first), as PEM. */
function serverChain(server: string): Promise<string[]> {
  const url = new URL(server);
  return new Promise((resolvePromise, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 443),
      rejectUnauthorized: false,
      servername: url.hostname,
      timeout: CA_FETCH_TIMEOUT_MS,
    });
    socket.once('secureConnect', () => {
      const out: string[] = [];
      let cert = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert?.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        out.push(
          `-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`,
        );
        cert = cert.issuerCertificate;
      }
      socket.end();
      resolvePromise(out);
    });
    socket.once('timeout', () => socket.destroy(new Error(`no answer from ${server}`)));
    socket.once('error', reject);
  });
}

/**
 * Which CA to trust, and the bearer token: --ca-file; or a K10<hash>:: token,
 * whose hash must match a CA certificate the server presents (k3s' scheme:
 * the token authenticates the server to the agent as well as the reverse);
 * or the CA pinned by an earlier start. Never trust on first use silently.
 */
export async function resolveTrust(o: {
  server: string;
  token: string;
  caFile?: string;
  dataDir: string;
}): Promise<{ caPem: string; token: string }> {
  const hashed = HASHED_TOKEN.exec(o.token);
  const token = hashed ? hashed[2] : o.token;
  let caPem: string | undefined;
  if (o.caFile) caPem = readFileSync(o.caFile, 'utf8');
  else if (hashed) {
    const chain = await serverChain(o.server);
    caPem = chain.find((pem) => caHash(pem) === hashed[1]);
    if (!caPem)
      throw new Error(
        `the server at ${o.server} presented no CA certificate matching the token's hash: wrong server, or pass --ca-file`,
      );
  } else if (existsSync(PINNED_CA(o.dataDir))) caPem = readFileSync(PINNED_CA(o.dataDir), 'utf8');
  if (!caPem) {
    throw new Error(
      'cannot verify the server: pass --ca-file <server data-dir>/tls/ca.crt, or a token of the form K10<ca-sha256>::<token>',
    );
  }
  if (hashed && caHash(caPem) !== hashed[1]) throw new Error('--ca-file does not match the CA hash in the token');
  mkdirSync(join(o.dataDir, 'agent'), { recursive: true, mode: 0o700 });
  writeFileSync(PINNED_CA(o.dataDir), caPem, { mode: 0o644 });
  return { caPem, token };
}

export async function runAgent(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      'ca-file': { type: 'string' },
      'data-dir': { type: 'string' },
      'node-ip': { type: 'string' },
      'node-name': { type: 'string' },
      'cluster-cidr': { type: 'string', default: '10.244.0.0/16' },
      'cluster-dns': { type: 'string', default: '10.96.0.10' },
      'cluster-domain': { type: 'string', default: 'cluster.local' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.server || !values.token) {
    process.stderr.write(`skiff agent: --server and --token are required\n\n${USAGE}`);
    return 1;
  }
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = createLogger('agent');
  const trust = await resolveTrust({ server: values.server, token: values.token, caFile: values['ca-file'], dataDir });
  const client = createClient({
    server: values.server,
    caPem: trust.caPem,
    token: trust.token,
    userAgent: 'skiff-agent/v0.1.0',
  });
  const nodeName = values['node-name'] ?? hostname().toLowerCase();
  const nodeIp = values['node-ip'] ?? defaultNodeIp();
  try {
    // The streaming port (kubectl logs/exec/port-forward) serves a certificate the API server signs for this node.
    // Without one the node still runs pods; only logs/exec/port-forward/top are unavailable, so say so and go on.
    const serving = await requestServingCert({ server: values.server, caPem: trust.caPem, token: trust.token, nodeName, nodeIp }).catch(
      (err: Error) => {
        process.stderr.write(`skiff agent: no streaming (kubectl logs/exec/port-forward) on this node: ${err.message}\n`);
        return undefined;
      },
    );
    const agent = await runNodeAgent({
      client,
      api: { server: values.server, caPem: trust.caPem, token: trust.token },
      dataDir,
      nodeName,
      nodeIp,
      streaming: serving && { tls: { caPem: trust.caPem, ...serving } },
      clusterCidr: values['cluster-cidr']!,
      clusterDns: [values['cluster-dns']!],
      clusterDomain: values['cluster-domain']!,
      controlPlane: false,
      clusterCaPem: trust.caPem,
      signal,
      log,
    });
    process.stdout.write(`skiff agent: node ${nodeName} ready, data in ${dataDir}\n`);
    await agent.stopped;
    return 0;
  } finally {
    client.close();
  }
}
