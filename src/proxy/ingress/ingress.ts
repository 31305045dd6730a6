// startIngress: skiff's ingress controller and proxy in one, a client of the
// API like every component. Informers on Ingresses, IngressClasses, Services,
// EndpointSlices and Secrets keep a routing table, endpoint pools and SNI
// certificates current; HTTP and HTTPS listeners proxy by them; the served
// Ingresses get the node IPs in status.loadBalancer.
import { Agent, createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../../api/types.ts';
import { type Client, keyOf, refs, SharedInformers, sleep, WorkQueue } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { BackendPools } from './backends.ts';
import { ensureDefaultIngressClass, INGRESS_CLASSES, servesIngress } from './classes.ts';
import { buildRoutingTable, type RoutingTable, routeRequest } from './match.ts';
import { createProxyHandlers, type Target } from './proxy.ts';
import { runStatusWriter } from './status.ts';
import { CertificateStore, DEFAULT_CERT_CN, selfSignedCertificate } from './tls.ts';

/** Idle client connections stay open this long between requests (nginx's keepalive_timeout is 75 s). */
const CLIENT_KEEPALIVE_TIMEOUT_MS = 75_000;
/** A client must finish sending request headers within this (nginx's client_header_timeout is 60 s). */
const CLIENT_HEADERS_TIMEOUT_MS = 60_000;
/** Idle upstream connections kept per endpoint: enough for a busy backend's concurrency without hoarding sockets. */
const UPSTREAM_MAX_FREE_SOCKETS = 512;
/** How long in-flight requests get on shutdown before connections are cut. */
const SHUTDOWN_GRACE_MS = 1_000;
/** Retry delay for creating the default IngressClass when the API is briefly unavailable. */
const CLASS_RETRY_MS = 2_000;

export type IngressOptions = {
  client: Client;
  /** Written to status.loadBalancer.ingress of served Ingresses. */
  nodeIps: string[];
  /** Listening ports (0 picks a free one). */
  httpPort: number;
  httpsPort: number;
  /** Listening address (e.g. the node IP, or 0.0.0.0). */
  bind: string;
  /** Reuse the caller's informers instead of starting new ones. */
  informers?: SharedInformers;
  signal: AbortSignal;
  log?: Logger;
};

export type IngressServer = {
  http: AddressInfo;
  https: AddressInfo;
  /** Resolves true once the first lists are in and the routing table is built. */
  synced: Promise<boolean>;
  /** The routing table now (for tests and debugging). */
  table(): RoutingTable;
  closed: Promise<void>;
};

function listen(server: Server, port: number, bind: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
  });
}

function tuneServer(server: Server, upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void {
  server.keepAliveTimeout = CLIENT_KEEPALIVE_TIMEOUT_MS;
  server.headersTimeout = CLIENT_HEADERS_TIMEOUT_MS;
  server.requestTimeout = 0; // long uploads and streams are fine; idle limits apply instead
  server.on('upgrade', upgrade);
  server.on('clientError', (_err, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
}

export async function startIngress(options: IngressOptions): Promise<IngressServer> {
  const { client, signal, log } = options;
  const informers = options.informers ?? new SharedInformers({ client, signal, log: log?.child('informers') });
  const ingresses = informers.for(refs.ingresses);
  const classes = informers.for(INGRESS_CLASSES);
  const services = informers.for(refs.services);
  const slices = informers.for(refs.endpointslices);
  const secrets = informers.for(refs.secrets);
  const pools = new BackendPools();
  const certs = new CertificateStore({ defaultCert: await selfSignedCertificate(DEFAULT_CERT_CN), log });
  const statusQueue = new WorkQueue({ signal });
  let table: RoutingTable = buildRoutingTable([]);
  let ready = false;

  const served = (ing: KubeObject) => servesIngress(ing, classes.list());
  let rebuildPending = false;
  const rebuild = () => {
    rebuildPending = false;
    const list = ingresses.list().filter(served);
    table = buildRoutingTable(list);
    certs.update(list, (key) => secrets.get(key));
  };
  // Many events arrive in bursts (a re-list, an apply of several objects): build once per turn.
  const scheduleRebuild = () => {
    if (rebuildPending) return;
    rebuildPending = true;
    setImmediate(rebuild);
  };
  const enqueueAll = () => {
    for (const ing of ingresses.list()) statusQueue.add(keyOf(ing));
  };
  const ingressChanged = (i: KubeObject) => {
    scheduleRebuild();
    statusQueue.add(keyOf(i));
  };
  ingresses.addHandlers({ onAdd: ingressChanged, onUpdate: (_o, i) => ingressChanged(i), onDelete: scheduleRebuild });
  const classChanged = () => {
    scheduleRebuild();
    enqueueAll();
  };
  classes.addHandlers({ onAdd: classChanged, onUpdate: classChanged, onDelete: classChanged });
  services.addHandlers({
    onAdd: (s) => pools.upsertService(s),
    onUpdate: (_o, s) => pools.upsertService(s),
    onDelete: (s) => pools.deleteService(s),
  });
  slices.addHandlers({
    onAdd: (s) => pools.upsertSlice(s),
    onUpdate: (o, s) => pools.upsertSlice(s, o),
    onDelete: (s) => pools.deleteSlice(s),
  });
  const secretChanged = (s: KubeObject) => certs.references(keyOf(s)) && scheduleRebuild();
  secrets.addHandlers({ onAdd: secretChanged, onUpdate: (_o, s) => secretChanged(s), onDelete: secretChanged });

  const pick = (host: string | undefined, url: string | undefined): Target => {
    if (!ready) return { status: 503 };
    const route = routeRequest(table, host, url);
    if (!route) return { status: 404 };
    const endpoint = pools.pick(route.backend);
    return endpoint ? { endpoint } : { status: 503 };
  };
  // One pool of upstream connections for every endpoint: LIFO reuse keeps few sockets hot.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: UPSTREAM_MAX_FREE_SOCKETS, scheduling: 'lifo' });
  const plain = createProxyHandlers({ pick, agent, proto: 'http', log });
  const secure = createProxyHandlers({ pick, agent, proto: 'https', log });
  const httpServer = createHttpServer(plain.request);
  tuneServer(httpServer, plain.upgrade);
  const httpsServer = createHttpsServer({ ...certs.serverOptions(), ALPNProtocols: ['http/1.1'] }, secure.request);
  tuneServer(httpsServer, secure.upgrade);
  const httpAddress = await listen(httpServer, options.httpPort, options.bind);
  const httpsAddress = await listen(httpsServer, options.httpsPort, options.bind).catch(async (err) => {
    await close(httpServer);
    throw err;
  });

  // The default class, through the API; retried in the background while the API is unavailable.
  const classCreated = (async () => {
    while (!signal.aborted) {
      try {
        if (await ensureDefaultIngressClass(client)) log?.info('created the default IngressClass', { name: 'skiff' });
        return;
      } catch (err) {
        log?.warn('could not create the default IngressClass; retrying', { err: (err as Error).message });
        await sleep(CLASS_RETRY_MS, signal);
      }
    }
  })();

  const synced = informers.waitForSync().then((ok) => {
    if (ok) {
      rebuild();
      ready = true;
    }
    return ok;
  });
  const statusDone = synced.then((ok) =>
    ok
      ? runStatusWriter({
          client,
          ingresses,
          served,
          nodeIps: options.nodeIps,
          queue: statusQueue,
          log: log?.child('status'),
        })
      : undefined,
  );
  const closed = new Promise<void>((resolve) => {
    const stop = async () => {
      statusQueue.shutDown();
      await Promise.all([close(httpServer), close(httpsServer), classCreated, statusDone.catch(() => {})]);
      agent.destroy();
      resolve();
    };
    if (signal.aborted) void stop();
    else signal.addEventListener('abort', () => void stop(), { once: true });
  });
  return { http: httpAddress, https: httpsAddress, synced, table: () => table, closed };
}
