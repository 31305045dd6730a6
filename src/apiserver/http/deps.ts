// What the HTTP layer needs from the rest of the API server. cli/ wires the
// real implementations; keeping them behind this type keeps the handlers small.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../api/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { Store } from '../../store/types.ts';
import type { UserInfo } from '../resources/context.ts';
import type { Authenticator, Authorizer } from '../auth.ts';
import type { TokenIssuer } from '../serviceaccount/jwt.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { Filter } from '../resources/list.ts';
import type { ObjectService } from '../resources/objects.ts';
import type { ResourceRegistry } from '../resources/registry.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';
import type { RequestInfo } from './request-info.ts';

export type PatchType = 'json' | 'merge' | 'strategic';

export type ApplyArgs = {
  def: ResourceDef;
  version: string;
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  subresource: string;
  now: Date;
};

/** Serves a connect-style subresource (log, exec, attach, portforward, proxy). */
export type SubresourceHandler = (args: {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  def: ResourceDef;
  query: URLSearchParams;
}) => Promise<void>;

/** Serves a skiff-specific non-resource path (any method) for an authenticated user. */
export type NonResourceHandler = (args: { req: IncomingMessage; res: ServerResponse; user: UserInfo }) => Promise<void>;

export type OpenApiDocs = {
  v2(): { body: string; etag: string };
  /** The same v2 document as gnostic's openapi.v2.Document protobuf (what kubectl asks for). */
  v2Protobuf(): { body: Buffer; etag: string };
  v3Index(): object;
  v3(groupVersionPath: string): { body: string; etag: string } | undefined;
};

export type ApiDeps = {
  registry: ResourceRegistry;
  objects: ObjectService;
  store: Store;
  schemas: SchemaSource;
  authenticate: Authenticator;
  authorize: Authorizer;
  /** A filter for label and field selectors (undefined when both are empty); throws 400 on bad selectors. */
  buildFilter(def: ResourceDef, labelSelector: string, fieldSelector: string): Filter | undefined;
  applyPatch(type: PatchType, original: KubeObject, patch: unknown, schema: Schema | undefined): KubeObject;
  serverSideApply(args: ApplyArgs): KubeObject;
  openapi: OpenApiDocs;
  subresources: Map<string, SubresourceHandler>;
  /** Non-resource paths served by handlers registered after start (e.g. node serving-certificate signing). */
  nonResource: Map<string, NonResourceHandler>;
  /** Signs service-account tokens (serviceaccounts/token); absent = not served. */
  tokenIssuer?: TokenIssuer;
  /** Resolves once the server may report ready (/readyz). */
  isReady(): boolean;
  log: Logger;
};
