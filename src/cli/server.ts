// `skiff server`: the control plane (store, API server) on one machine.
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startApiServer } from '../apiserver/index.ts';
import { ADMIN_USER, NODE_GROUP, loadOrCreateJoinToken, loadOrCreateToken } from '../apiserver/auth.ts';
import { ensureTls } from '../apiserver/certs.ts';
import { writeKubeconfig } from '../apiserver/kubeconfig.ts';
import { ensureAgentClientCert, issueAgentServingCert, registerNodeProxy, registerServingCertSigning } from '../apiserver/node-proxy/index.ts';
import { MAX_SIMULATED_NODES, startSimulatedNodes } from '../agent/simulated/index.ts';
import { createClient } from '../client/index.ts';
import { startClusterDnsWorker } from '../dns/index.ts';
import { startIngress } from '../proxy/ingress/index.ts';
import { caHash, defaultNodeIp, nthServiceIp, runNodeAgent } from './agent.ts';
import { startControllers } from '../controllers/index.ts';
import { DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS, parseDuration } from '../controllers/node-health.ts';
import { parseCidr } from '../lib/ipv4.ts';
import { createLogger } from '../lib/log.ts';
import { openSqliteStore, startCompactor } from '../store/index.ts';
import { defaultDataDir } from './paths.ts';

const USAGE = `Usage: skiff server [options]

Runs the control plane: the Kubernetes-compatible API server and its store.

Options:
  --data-dir DIR          state, kubeconfig and join token (default ${defaultDataDir()})
  --port PORT             HTTPS port of the API (default 6443)
  --bind ADDR             address to listen on (default 127.0.0.1)
  --node-ip IP            this node's IP, added to the serving certificate
  --node-name NAME        this node's name (default: the hostname)
  --datastore sqlite|etcd store backend (default sqlite)
  --etcd-endpoints URLS   etcd endpoints, comma-separated (with --datastore etcd)
  --no-agent              run the control plane only
  --disable-controller-manager  serve the API only: no controllers, no scheduler (for API benchmarks)
  --cluster-cidr CIDR     pod network (default 10.244.0.0/16)
  --service-cidr CIDR     Service IPs (default 10.96.0.0/12)
  --cluster-domain NAME   cluster DNS domain (default cluster.local)
  --no-upstream-dns       cluster DNS answers cluster names only
  --dns-port PORT         cluster DNS on 127.0.0.1:PORT, UDP and TCP (default 53 as root, else 1053; 0 picks a free port)
  --ingress-http-port PORT, --ingress-https-port PORT
                          ingress ports (default 80 and 443 as root, else 8080 and 8443; 0 picks a free port)
  --ingress-bind ADDR     ingress listening address (default the node IP)
  --disable-ingress       do not serve Ingresses
  --simulated-nodes N     register N simulated nodes (kwok-style, no containers) for tests and benchmarks
  --node-monitor-grace-period DURATION
                          how long a node may miss heartbeats before it is NotReady (default 40s)
`;

/** How long the controllers get on shutdown to finish and release their Lease before the API closes. */
const SHUTDOWN_GRACE_MS = 3000;

export type ServerOptions = {
  dataDir: string;
  port: number;
  bind: string;
  nodeIp?: string;
  nodeName: string;
  datastore: string;
  etcdEndpoints: string[];
  agent: boolean;
  /** Run the controller manager (controllers and scheduler); off with --disable-controller-manager. */
  controllers: boolean;
  clusterCidr: string;
  serviceCidr: string;
  clusterDomain: string;
  upstreamDns: boolean;
  /** Cluster DNS port on 127.0.0.1 (0: any free port). */
  dnsPort: number;
  /** Simulated nodes to register (tests and benchmarks). */
  simulatedNodes: number;
  /** Ingress listeners; undefined with --disable-ingress. */
  ingress?: { httpPort: number; httpsPort: number; bind?: string };
  nodeMonitorGracePeriodMs: number;
};

export function parseServerArgs(argv: string[]): ServerOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '6443' },
      bind: { type: 'string', default: '127.0.0.1' },
      'node-ip': { type: 'string' },
      'node-name': { type: 'string' },
      datastore: { type: 'string', default: 'sqlite' },
      'etcd-endpoints': { type: 'string' },
      'no-agent': { type: 'boolean', default: false },
      'disable-controller-manager': { type: 'boolean', default: false },
      'cluster-cidr': { type: 'string', default: '10.244.0.0/16' },
      'service-cidr': { type: 'string', default: '10.96.0.0/12' },
      'cluster-domain': { type: 'string', default: 'cluster.local' },
      'no-upstream-dns': { type: 'boolean', default: false },
      'dns-port': { type: 'string' },
      'simulated-nodes': { type: 'string', default: '0' },
      'ingress-http-port': { type: 'string' },
      'ingress-https-port': { type: 'string' },
      'ingress-bind': { type: 'string' },
      'disable-ingress': { type: 'boolean', default: false },
      'node-monitor-grace-period': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  const simulatedNodes = Number(values['simulated-nodes']);
  if (!Number.isInteger(simulatedNodes) || simulatedNodes < 0 || simulatedNodes > MAX_SIMULATED_NODES) {
    throw new Error(`--simulated-nodes: must be a whole number from 0 to ${MAX_SIMULATED_NODES}, not ${values['simulated-nodes']}`);
  }
  try {
    parseCidr(values['cluster-cidr']!);
  } catch (err) {
    throw new Error(`--cluster-cidr: ${(err as Error).message}`);
  }
  try {
    parseCidr(values['service-cidr']!);
  } catch (err) {
    throw new Error(`--service-cidr: ${(err as Error).message}`);
  }
  if (values.datastore !== 'sqlite' && values.datastore !== 'etcd') {
    throw new Error(`--datastore: must be sqlite or etcd, not ${values.datastore}`);
  }
  return {
    dataDir: resolve(values['data-dir'] ?? defaultDataDir()),
    port,
    bind: values.bind!,
    nodeIp: values['node-ip'],
    nodeName: values['node-name'] ?? hostname().toLowerCase(),
    datastore: values.datastore!,
    etcdEndpoints: (values['etcd-endpoints'] ?? '').split(',').filter(Boolean),
    agent: !values['no-agent'],
    controllers: !values['disable-controller-manager'],
    clusterCidr: values['cluster-cidr']!,
    serviceCidr: values['service-cidr']!,
    clusterDomain: values['cluster-domain']!,
    upstreamDns: !values['no-upstream-dns'],
    dnsPort: parseDnsPort(values['dns-port']),
    simulatedNodes,
    ingress: values['disable-ingress']
      ? undefined
      : {
          httpPort: parsePort('--ingress-http-port', values['ingress-http-port'], process.getuid?.() === 0 ? 80 : 8080),
          httpsPort: parsePort('--ingress-https-port', values['ingress-https-port'], process.getuid?.() === 0 ? 443 : 8443),
          bind: values['ingress-bind'],
        },
    nodeMonitorGracePeriodMs: values['node-monitor-grace-period']
      ? parseDuration(values['node-monitor-grace-period'])
      : DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS,
  };
}

/** Port 53 needs root; unprivileged servers use 1053 (CoreDNS's habit). */
function parseDnsPort(value: string | undefined): number {
  if (value === undefined) return process.getuid?.() === 0 ? 53 : 1053;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--dns-port: not a port number: ${value}`);
  return port;
}

/** A port flag's value, or `fallback` when not given. */
function parsePort(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag}: not a port number: ${value}`);
  return port;
}

/** The first address of the service CIDR: the `kubernetes` Service's ClusterIP. */
export function firstServiceIp(cidr: string): string {
  const [base] = cidr.split('/');
  const octets = base.split('.').map(Number);
  octets[3] += 1;
  return octets.join('.');
}

export async function runServer(argv: string[], signal: AbortSignal): Promise<void> {
  const started = Date.now();
  const options = parseServerArgs(argv);
  const log = createLogger('server');
  if (options.datastore === 'etcd') {
    throw new Error('--datastore etcd is not available yet in this version of skiff; use sqlite (the default)');
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`skiff server: data in ${options.dataDir}`);

  const store = await openSqliteStore({ path: join(options.dataDir, 'db', 'state.db') });
  // The API server outlives the controllers on shutdown, so they can still give up their Lease.
  const apiStop = new AbortController();
  const compactor = startCompactor(store, { signal: apiStop.signal, onError: (err) => log.warn('compaction failed', { err }) });
  const tls = await ensureTls(join(options.dataDir, 'tls'), {
    dnsNames: [
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      `kubernetes.default.svc.${options.clusterDomain}`,
      options.nodeName,
    ],
    ips: [...new Set(['127.0.0.1', firstServiceIp(options.serviceCidr), ...(options.nodeIp ? [options.nodeIp] : [])])],
  });
  const adminToken = loadOrCreateToken(join(options.dataDir, 'admin-token'));
  const joinTokenPath = join(options.dataDir, 'token');
  const joinToken = loadOrCreateJoinToken(joinTokenPath, caHash(tls.caPem)).secret;
  const api = await startApiServer({
    store,
    tls,
    port: options.port,
    bind: options.bind,
    tokens: [
      { token: adminToken, user: ADMIN_USER },
      { token: joinToken, user: { name: 'system:node-bootstrap', groups: [NODE_GROUP, 'system:authenticated'] } },
    ],
    signal: apiStop.signal,
    log: log.child('apiserver'),
    serviceAccountKeyPath: join(options.dataDir, 'tls', 'sa.key'),
    serviceCidr: options.serviceCidr,
    advertiseAddress: options.nodeIp,
  });
  // Node streaming (logs, exec, attach, port-forward, top): the API server calls agents with its own client certificate.
  const tlsDir = join(options.dataDir, 'tls');
  registerNodeProxy(api, { caPem: tls.caPem, ...(await ensureAgentClientCert(tlsDir)) });
  // Joining agents get their streaming serving certificates signed here, with the join token.
  registerServingCertSigning(api, tlsDir);
  const kubeconfigPath = join(options.dataDir, 'kubeconfig.yaml');
  writeKubeconfig(kubeconfigPath, { server: api.url, caPem: tls.caPem, token: adminToken });
  print(`skiff server: kubeconfig ${kubeconfigPath}`);
  print(`skiff server: join token ${joinTokenPath}`);
  // --- controllers (namespace lifecycle, garbage collector): clients of the API like any other ---
  const controllerClient = createClient({ server: api.url, caPem: tls.caPem, token: adminToken });
  const controllers = options.controllers
    ? startControllers({
        client: controllerClient,
        signal,
        nodeName: options.nodeName,
        log: log.child('controllers'),
        settings: { clusterCaPem: tls.caPem, nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs, clusterCidr: options.clusterCidr },
      })
        .catch((err) => log.error('controllers stopped', { err }))
        .finally(() => controllerClient.close())
    : Promise.resolve(controllerClient.close());
  // --- end controllers ---
  // --- node agent (embedded unless --no-agent): a client of the API with the join token, as `skiff agent` is ---
  let agentStopped: Promise<unknown> = Promise.resolve();
  if (options.agent) {
    const agentClient = createClient({ server: api.url, caPem: tls.caPem, token: joinToken, userAgent: 'skiff-agent/v0.1.0' });
    const nodeIp = options.nodeIp ?? defaultNodeIp();
    const agent = await runNodeAgent({
      client: agentClient,
      api: { server: api.url, caPem: tls.caPem, token: joinToken },
      dataDir: options.dataDir,
      nodeName: options.nodeName,
      nodeIp,
      // The embedded agent's serving certificate is minted here, where the CA key is.
      streaming: { tls: { caPem: tls.caPem, ...(await issueAgentServingCert(tlsDir, { nodeName: options.nodeName, ips: [nodeIp] })) } },
      clusterCidr: options.clusterCidr,
      serviceCidr: options.serviceCidr,
      clusterDns: [nthServiceIp(options.serviceCidr, 10)],
      upstreamDns: options.upstreamDns,
      clusterDomain: options.clusterDomain,
      controlPlane: true,
      clusterCaPem: tls.caPem,
      signal,
      log: log.child('agent'),
    }).catch((err) => {
      agentClient.close();
      throw new Error(`${(err as Error).message}(or run the control plane only with --no-agent)`);
    });
    agentStopped = agent.stopped.catch((err) => log.error('node agent stopped', { err })).finally(() => agentClient.close());
    print(`skiff server: node agent running as node ${options.nodeName}`);
  }
  // --- end node agent ---
  // --- simulated nodes (--simulated-nodes, for tests and benchmarks): their own client, like the controllers ---
  let simulated: Promise<unknown> = Promise.resolve();
  if (options.simulatedNodes > 0) {
    const simClient = createClient({ server: api.url, caPem: tls.caPem, token: adminToken });
    const sim = await startSimulatedNodes({ client: simClient, count: options.simulatedNodes, signal, log: log.child('simulated-nodes') });
    print(`skiff server: ${sim.names.length} simulated nodes registered (no containers run on them)`);
    simulated = sim.stopped.catch((err) => log.error('simulated nodes stopped', { err })).finally(() => simClient.close());
  }
  // --- end simulated nodes ---
  // --- cluster DNS on 127.0.0.1:--dns-port (the agent serves the kube-dns address on each node) ---
  const dnsStarted = await startClusterDnsWorker({
    api: { server: api.url, caPem: tls.caPem, token: adminToken },
    listen: [{ address: '127.0.0.1', port: options.dnsPort }],
    clusterDomain: options.clusterDomain,
    upstream: options.upstreamDns,
    threads: 'auto',
    signal,
    log: log.child('dns'),
  }).catch((err: Error) => {
    log.warn('cluster DNS not started', { err: err.message, port: options.dnsPort });
    return undefined;
  });
  if (dnsStarted) print(`skiff server: cluster DNS on 127.0.0.1:${dnsStarted.addresses[0].port} (${options.clusterDomain})`);
  const dns = dnsStarted?.closed ?? Promise.resolve();
  // --- end cluster DNS ---
  // --- ingress on the node IP (--ingress-http-port/--ingress-https-port; --disable-ingress): a client of the API ---
  let ingress: Promise<unknown> = Promise.resolve();
  if (options.ingress) {
    const ingressClient = createClient({ server: api.url, caPem: tls.caPem, token: adminToken });
    const nodeIp = options.nodeIp ?? defaultNodeIp();
    const bind = options.ingress.bind ?? nodeIp;
    const ingressStarted = await startIngress({
      client: ingressClient,
      nodeIps: [nodeIp],
      httpPort: options.ingress.httpPort,
      httpsPort: options.ingress.httpsPort,
      bind,
      signal,
      log: log.child('ingress'),
    }).catch((err: Error) => {
      log.warn('ingress not started', { err: err.message, bind, ports: [options.ingress?.httpPort, options.ingress?.httpsPort] });
      return undefined;
    });
    if (ingressStarted) print(`skiff server: ingress on http://${bind}:${ingressStarted.http.port} and https://${bind}:${ingressStarted.https.port}`);
    ingress = (ingressStarted?.closed ?? Promise.resolve()).finally(() => ingressClient.close());
  }
  // --- end ingress ---
  print(`skiff server: ready at ${api.url} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  print(`  try: KUBECONFIG=${kubeconfigPath} kubectl get namespaces`);

  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  await Promise.race([Promise.all([controllers, simulated, agentStopped, dns, ingress]), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS))]);
  apiStop.abort();
  await api.closed;
  await compactor.stopped;
  await store.close();
}
