// Cached OpenAPI documents for the HTTP layer: built on first request,
// rebuilt after the set of resources or a CRD schema changes.
import type { OpenApiDocs } from '../http/deps.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { MutableSchemaSource } from '../schema/index.ts';
import { buildOpenApiV2 } from './v2.ts';
import { encodeOpenApiV2Protobuf } from './v2-protobuf.ts';
import { buildOpenApiV3, type OpenApiDocument, type OpenApiV3Set } from './v3.ts';

export type ResourceList = { all(): ResourceDef[]; onChange(listener: () => void): () => void };

export function createOpenApiDocs(registry: ResourceList, schemas: MutableSchemaSource): OpenApiDocs {
  let v2: OpenApiDocument | undefined;
  /** The protobuf encoding of `v2`, made on first protobuf request; cleared with it. */
  let v2Protobuf: Buffer | undefined;
  let v3: OpenApiV3Set | undefined;
  let builtAt = schemas.generation();
  registry.onChange(() => {
    v2 = undefined;
    v2Protobuf = undefined;
    v3 = undefined;
  });
  const fresh = () => {
    if (schemas.generation() === builtAt) return;
    builtAt = schemas.generation();
    v2 = undefined;
    v2Protobuf = undefined;
    v3 = undefined;
  };
  const v3Set = (): OpenApiV3Set => {
    fresh();
    v3 ??= buildOpenApiV3(registry.all(), schemas);
    return v3;
  };
  const v2Doc = (): OpenApiDocument => {
    fresh();
    v2 ??= buildOpenApiV2(registry.all(), schemas);
    return v2;
  };
  return {
    v2() {
      const doc = v2Doc();
      return { body: doc.json, etag: doc.etag };
    },
    v2Protobuf() {
      const doc = v2Doc();
      v2Protobuf ??= encodeOpenApiV2Protobuf(doc.doc);
      // Same document, different bytes: the etag must differ from the JSON one.
      return { body: v2Protobuf, etag: `${doc.etag}-pb` };
    },
    v3Index: () => v3Set().index.doc,
    v3(groupVersionPath) {
      const doc = v3Set().groupVersions.get(groupVersionPath);
      return doc && { body: doc.json, etag: doc.etag };
    },
  };
}
