// Cached OpenAPI documents for the HTTP layer: built on first request,
// rebuilt after the set of resources or a CRD schema changes.
import type { OpenApiDocs } from '../http/deps.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { MutableSchemaSource } from '../schema/index.ts';
import { buildOpenApiV2 } from './v2.ts';
import { buildOpenApiV3, type OpenApiDocument, type OpenApiV3Set } from './v3.ts';

export type ResourceList = { all(): ResourceDef[]; onChange(listener: () => void): () => void };

export function createOpenApiDocs(registry: ResourceList, schemas: MutableSchemaSource): OpenApiDocs {
  let v2: OpenApiDocument | undefined;
  let v3: OpenApiV3Set | undefined;
  let builtAt = schemas.generation();
  registry.onChange(() => {
    v2 = undefined;
    v3 = undefined;
  });
  const fresh = () => {
    if (schemas.generation() === builtAt) return;
    builtAt = schemas.generation();
    v2 = undefined;
    v3 = undefined;
  };
  const v3Set = (): OpenApiV3Set => {
    fresh();
    v3 ??= buildOpenApiV3(registry.all(), schemas);
    return v3;
  };
  return {
    v2() {
      fresh();
      v2 ??= buildOpenApiV2(registry.all(), schemas);
      return { body: v2.json, etag: v2.etag };
    },
    v3Index: () => v3Set().index.doc,
    v3(groupVersionPath) {
      const doc = v3Set().groupVersions.get(groupVersionPath);
      return doc && { body: doc.json, etag: doc.etag };
    },
  };
}
