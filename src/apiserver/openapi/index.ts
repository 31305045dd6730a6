// OpenAPI documents of the served resources (pure: the HTTP layer caches and
// serves them, rebuilding when resources or CRD schemas change).
export { createOpenApiDocs, type ResourceList } from './docs.ts';
export { groupVersionPath } from './operations.ts';
export { buildOpenApiV2, negotiateOpenApiV2, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_RESPONSE } from './v2.ts';
export { encodeOpenApiV2Protobuf } from './v2-protobuf.ts';
export {
  buildOpenApiV3,
  buildOpenApiV3GroupVersion,
  type OpenApiDocument,
  type OpenApiV3Set,
  toV3Schema,
} from './v3.ts';
