// The API server as one component: HTTPS listener, resources on the store,
// built-in admission, bootstrap objects and CRD serving. cli/ starts it.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../api/types.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../store/types.ts';
import { namespaceLifecycle } from './admission.ts';
import { applyPatch } from './patch/index.ts';
import { serverSideApply, trackManagedFields } from './apply/index.ts';
import { allowAuthenticated, bearerToken, type TokenEntry, tokenAuthenticator } from './auth.ts';
import { bootstrap } from './bootstrap.ts';
import type { TlsMaterial } from './certs.ts';
import { watchCrds } from './crd-serving.ts';
import type { ApiDeps, NonResourceHandler, SubresourceHandler } from './http/deps.ts';
import { createRequestHandler } from './http/server.ts';
import { serveUpgrades } from './node-proxy/upgrade.ts';
import { createOpenApiDocs } from './openapi/index.ts';
import { builtinResources } from './registry/index.ts';
import { buildFilter } from './resources/filters.ts';
import { ObjectService } from './resources/objects.ts';
import { ResourceRegistry } from './resources/registry.ts';
import { createSchemaSource, checkFields } from './schema/index.ts';
import { DEFAULT_SERVICE_CIDR, startServiceAllocation } from './services/index.ts';
import { createTokenIssuer, loadOrCreateSigningKey, serviceAccountAuthenticator } from './serviceaccount/jwt.ts';

export type ApiServerOptions = {
  store: Store;
  tls: TlsMaterial;
  port: number;
  bind: string;
  tokens: TokenEntry[];
  signal: AbortSignal;
  log: Logger;
  /** PKCS#8 PEM key that signs service-account tokens (<data-dir>/tls/sa.key), created when missing; absent = a key that lives as long as the process. */
  serviceAccountKeyPath?: string;
  /** --service-cidr: ClusterIPs come from here (default 10.96.0.0/12). */
  serviceCidr?: string;
  /** The address the `kubernetes` Service's endpoints name (default: bind, or 127.0.0.1 when bound to all). */
  advertiseAddress?: string;
};

export type ApiServer = {
  /** https://<bind>:<port> as clients should dial it. */
  url: string;
  port: number;
  registry: ResourceRegistry;
  /** Serves connect-style subresources (pods/log, pods/exec, …) once an agent registers them; a 'group/plural' key serves a whole resource (metrics.k8s.io). */
  subresources: Map<string, SubresourceHandler>;
  /** Skiff-specific non-resource paths (authenticated; authorization is the handler's). */
  nonResource: Map<string, NonResourceHandler>;
  objects: ObjectService;
  store: Store;
  closed: Promise<void>;
};

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { store, log, signal } = options;
  const registry = new ResourceRegistry(builtinResources());
  const schemas = createSchemaSource();
  const namespacesDef = () => registry.byGroupResource('', 'namespaces')!;
  const admission = [] as ConstructorParameters<typeof ObjectService>[0]['admission'];
  const objects = new ObjectService({
    store,
    admission,
    fieldCheck: ({ def, version, obj }) => {
      const root = schemas.root(def.group, version, def.kind);
      if (!root) return { unknown: [], invalid: [] };
      const check = checkFields(schemas, root, obj);
      return { unknown: [...check.duplicates, ...check.unknown], invalid: check.invalid };
    },
    managedFields: (args) => trackManagedFields({ ...args, schemas }),
  });
  admission.push(namespaceLifecycle(objects, namespacesDef));
  const serviceCidr = options.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  admission.push((await startServiceAllocation({ store, serviceCidr, signal, log: log.child('services') })).hook);

  const tokenIssuer = createTokenIssuer({
    keyPem: options.serviceAccountKeyPath
      ? loadOrCreateSigningKey(options.serviceAccountKeyPath)
      : (generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
  });
  const staticTokens = tokenAuthenticator(options.tokens);
  const serviceAccounts = serviceAccountAuthenticator(tokenIssuer, bearerToken);

  let ready = false;
  const subresources = new Map<string, SubresourceHandler>();
  const nonResource = new Map<string, NonResourceHandler>();
  const deps: ApiDeps = {
    registry,
    objects,
    store,
    schemas,
    authenticate: (req) => staticTokens(req) ?? serviceAccounts(req),
    authorize: allowAuthenticated,
    buildFilter,
    applyPatch: (type, original, patch, schema) =>
      applyPatch(type, original, patch, { schema, source: schemas }) as KubeObject,
    serverSideApply: (args) => serverSideApply({ ...args, schemas }),
    openapi: createOpenApiDocs(registry, schemas),
    subresources,
    nonResource,
    tokenIssuer,
    isReady: () => ready,
    log,
  };

  const handler = createRequestHandler(deps);
  // The chain includes the CA, so joining agents can check it against the hash in their K10 token.
  const server = createServer({ cert: `${options.tls.certPem.trimEnd()}\n${options.tls.caPem}`, key: options.tls.keyPem }, handler);
  serveUpgrades(server, handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.bind === '0.0.0.0' || options.bind === '::' ? '127.0.0.1' : options.bind;
  const closed = new Promise<void>((resolve) => {
    signal.addEventListener('abort', () => {
      server.close(() => resolve());
      server.closeAllConnections();
    }, { once: true });
  });

  const advertiseAddress = options.advertiseAddress ?? (host.includes(':') ? '127.0.0.1' : host);
  await bootstrap({ registry, objects, log, services: { serviceCidr, apiPort: port, advertiseAddress } });
  await watchCrds({ registry, schemas, objects, store, signal, log });
  ready = true;
  return { url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, port, registry, subresources, nonResource, objects, store, closed };
}
