// startIngress: skiff's ingress controller and proxy in one, a client of the
// API like every component. Informers on Ingresses, IngressClasses, Services,
// EndpointSlices and Secrets keep a routing table, endpoint pools and SNI
// certificates current; HTTP and HTTPS listeners proxy by them; the served
// Ingresses get the node IPs in status.loadBalancer.
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { KubeObject } from '../../api/types.ts';
import { type Client, keyOf, refs, SharedInformers, sleep, WorkQueue } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { BackendPools } from './backends.ts';
import { ensureDefaultIngressClass, INGRESS_CLASSES, servesIngress } from './classes.ts';
import { buildRoutingTable, type RoutingTable, routeRequest } from './match.ts';
import { startListeners } from './listeners.ts';
import type { Target } from './proxy.ts';
import { type ProxySnapshot, backendKey, tableBackends } from './snapshot.ts';
import { runStatusWriter } from './status.ts';
import { CertificateStore, DEFAULT_CERT_CN, selfSignedCertificate } from './tls.ts';
import { type ProxyWorkers, startProxyWorkers } from './workers.ts';

/** Retry delay for creating the default IngressClass when the API is briefly unavailable. */
const CLASS_RETRY_MS = 2_000;
/** Proxy threads beyond the main one are capped here: past a few, the kernel's loopback and the backends are the limit. */
const MAX_WORKERS = 3;

/** One proxy thread per CPU beside the main thread's, up to MAX_WORKERS. */
export function defaultIngressWorkers(): number {
  return Math.max(0, Math.min(MAX_WORKERS, availableParallelism() - 1));
}

export type IngressOptions = {
  client: Client;
  /** Written to status.loadBalancer.ingress of served Ingresses. */
  nodeIps: string[];
  /** Listening ports (0 picks a free one). */
  httpPort: number;
  httpsPort: number;
  /** Listening address (e.g. the node IP, or 0.0.0.0). */
  bind: string;
  /** Proxy worker threads beside the main thread, sharing its ports (default defaultIngressWorkers()). */
  workers?: number;
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

export async function startIngress(options: IngressOptions): Promise<IngressServer> {
  const { client, signal, log } = options;
  const informers = options.informers ?? new SharedInformers({ client, signal, log: log?.child('informers') });
  const ingresses = informers.for(refs.ingresses);
  const classes = informers.for(INGRESS_CLASSES);
  const services = informers.for(refs.services);
  const slices = informers.for(refs.endpointslices);
  const secrets = informers.for(refs.secrets);
  const pools = new BackendPools();
  const defaultCert = await selfSignedCertificate(DEFAULT_CERT_CN);
  const certs = new CertificateStore({ defaultCert, log });
  const workerCount = options.workers ?? defaultIngressWorkers();
  let workers: ProxyWorkers | undefined;
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
    schedulePost();
  };
  // Workers get the table, the endpoints it names and the certificates, once per burst of changes.
  let postPending = false;
  const snapshot = (): ProxySnapshot => {
    const endpoints = new Map(tableBackends(table).map((ref) => [backendKey(ref), pools.endpoints(ref)]));
    return { ready, table, endpoints, tls: certs.snapshot() };
  };
  const post = () => {
    postPending = false;
    workers?.post(snapshot());
  };
  const schedulePost = () => {
    if (postPending || !workers) return;
    postPending = true;
    setImmediate(post);
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
  const endpointsChanged = (change: () => void) => {
    change();
    schedulePost();
  };
  services.addHandlers({
    onAdd: (s) => endpointsChanged(() => pools.upsertService(s)),
    onUpdate: (_o, s) => endpointsChanged(() => pools.upsertService(s)),
    onDelete: (s) => endpointsChanged(() => pools.deleteService(s)),
  });
  slices.addHandlers({
    onAdd: (s) => endpointsChanged(() => pools.upsertSlice(s)),
    onUpdate: (o, s) => endpointsChanged(() => pools.upsertSlice(s, o)),
    onDelete: (s) => endpointsChanged(() => pools.deleteSlice(s)),
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
  const listeners = await startListeners({
    pick,
    certs,
    httpPort: options.httpPort,
    httpsPort: options.httpsPort,
    bind: options.bind,
    reusePort: workerCount > 0 ? 'first' : undefined,
    log,
  });
  // Workers join in the background: the main thread already serves every connection until they listen.
  const workersStarted =
    workerCount > 0
      ? startProxyWorkers({ count: workerCount, httpPort: listeners.http.port, httpsPort: listeners.https.port, bind: options.bind, defaultCert, snapshot: snapshot(), log }).then(
          (started) => {
            if (signal.aborted) return started.stop();
            workers = started;
            schedulePost();
          },
          (err: Error) => log?.warn('ingress worker threads not started; the main thread serves alone', { err: err.message }),
        )
      : Promise.resolve();

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
      ready = true;
      rebuild();
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
      await workersStarted;
      await Promise.all([listeners.close(), workers?.stop(), classCreated, statusDone.catch(() => {})]);
      resolve();
    };
    if (signal.aborted) void stop();
    else signal.addEventListener('abort', () => void stop(), { once: true });
  });
  return { http: listeners.http, https: listeners.https, synced, table: () => table, closed };
}
