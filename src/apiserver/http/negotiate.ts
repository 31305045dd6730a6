// What representation the client asked for in Accept: plain JSON, a Table
// (kubectl get), or PartialObjectMetadata (metadata-only clients).
import { errors } from '../../api/errors.ts';

export type Representation = 'object' | 'table' | 'metadata';

type MediaRange = { type: string; params: Record<string, string> };

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((part) => {
      const [type, ...params] = part.split(';').map((s) => s.trim());
      const record: Record<string, string> = {};
      for (const p of params) {
        const eq = p.indexOf('=');
        if (eq > 0) record[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
      }
      return { type: type.toLowerCase(), params: record };
    })
    .filter((r) => r.type !== '');
}

const JSON_LIKE = new Set(['application/json', 'application/*', '*/*', 'application/yaml']);
const META_VERSIONS = new Set(['v1', 'v1beta1']);

/** Picks the first acceptable representation in the client's order of preference. */
export function negotiate(accept: string | undefined): Representation {
  if (!accept) return 'object';
  const ranges = parseAccept(accept);
  for (const range of ranges) {
    if (range.type === 'application/vnd.kubernetes.protobuf') continue;
    if (!JSON_LIKE.has(range.type)) continue;
    const as = range.params.as;
    if (!as) return 'object';
    if (range.params.g !== 'meta.k8s.io' || !META_VERSIONS.has(range.params.v ?? '')) continue;
    if (as === 'Table') return 'table';
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return 'metadata';
  }
  if (ranges.some((r) => r.type === 'application/vnd.kubernetes.protobuf')) return 'object';
  throw errors.notAcceptable(
    'only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io',
  );
}
