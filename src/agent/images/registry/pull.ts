// Pulling an image over the distribution API v2: resolve the manifest (a
// manifest list / OCI index picks linux/amd64), fetch and verify the config,
// then stream each missing layer straight into the unpacker, which checks both
// the blob digest and the diff ID. Mirrors are tried before the registry
// itself; credentials from imagePullSecrets before those of registries.yaml.
import { createHash } from 'node:crypto';
import type { Logger } from '../../../lib/log.ts';
import type { ImageRecord, RegistryAuth } from '../../types.ts';
import { ImageError, isImageError } from '../errors.ts';
import { type Descriptor, diffIds, isIndex, MANIFEST_ACCEPT, selectPlatform } from '../manifest.ts';
import { formatReference, type ImageReference, parseReference } from '../reference.ts';
import type { IngestImage } from '../store.ts';
import { type Credential, RegistrySession } from './client.ts';
import { endpointsFor, hostKey, type RegistriesConfig } from './config.ts';

/** Manifests and indexes are small; anything bigger is not one. */
const MANIFEST_LIMIT = 4 << 20;
/** Image configs are JSON documents of a few KB (history can make them larger). */
const CONFIG_LIMIT = 16 << 20;

export type PullContext = {
  store: { ingest(image: IngestImage): Promise<ImageRecord>; hasLayer(diffId: string): Promise<boolean> };
  registries: RegistriesConfig;
  auth?: RegistryAuth[];
  signal?: AbortSignal;
  log: Logger;
};

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

function credentialOf(a: { username?: string; password?: string; auth?: string; identityToken?: string }): Credential {
  if (a.username !== undefined || a.identityToken) return { username: a.username, password: a.password, identityToken: a.identityToken };
  if (a.auth) {
    const decoded = Buffer.from(a.auth, 'base64').toString();
    const colon = decoded.indexOf(':');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return {};
}

/** Credentials to try against one endpoint, best first; `undefined` is anonymous. */
export function credentialsFor(ctx: Pick<PullContext, 'auth' | 'registries'>, domain: string, endpoint: string): (Credential | undefined)[] {
  const endpointHost = hostKey(endpoint);
  const hosts = [...new Set([domain, endpointHost])];
  const out: (Credential | undefined)[] = [];
  for (const a of ctx.auth ?? []) if (hosts.includes(hostKey(a.registry))) out.push(credentialOf(a));
  for (const h of [endpointHost, domain]) {
    const auth = ctx.registries.configs[h]?.auth;
    if (auth) out.push(credentialOf(auth));
  }
  out.push(undefined);
  const seen = new Set<string>();
  return out.filter((c) => {
    const key = JSON.stringify(c ?? null);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function getManifest(session: RegistrySession, ref: string, expected?: string): Promise<{ digest: string; body: Buffer; mediaType?: string }> {
  const res = await session.get(`manifests/${ref}`, { accept: MANIFEST_ACCEPT });
  const body = await res.buffer(MANIFEST_LIMIT);
  const digest = sha256(body);
  const claimed = res.headers['docker-content-digest'];
  if (expected && digest !== expected) throw new ImageError('DigestMismatch', `manifest ${ref}: got ${digest}, expected ${expected}`);
  if (typeof claimed === 'string' && claimed.startsWith('sha256:') && claimed !== digest) {
    throw new ImageError('DigestMismatch', `manifest ${ref}: registry says ${claimed}, content is ${digest}`);
  }
  const parsed = JSON.parse(body.toString()) as { mediaType?: string };
  const contentType = String(res.headers['content-type'] ?? '').split(';')[0];
  return { digest, body, mediaType: parsed.mediaType ?? contentType };
}

async function pullFrom(session: RegistrySession, ref: ImageReference, names: string[], ctx: PullContext): Promise<ImageRecord> {
  let manifest = await getManifest(session, ref.digest ?? ref.tag ?? 'latest', ref.digest);
  if (isIndex(manifest.mediaType)) {
    const chosen = selectPlatform((JSON.parse(manifest.body.toString()) as { manifests: Descriptor[] }).manifests ?? []);
    manifest = await getManifest(session, chosen.digest, chosen.digest);
  }
  const m = JSON.parse(manifest.body.toString()) as { schemaVersion?: number; config?: Descriptor; layers?: Descriptor[] };
  if (m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new ImageError('PullFailed', `unsupported manifest (${manifest.mediaType ?? 'unknown type'}); schema 1 manifests are not supported`);
  }
  const configRes = await session.get(`blobs/${m.config.digest}`);
  const configBlob = await configRes.buffer(CONFIG_LIMIT);
  if (sha256(configBlob) !== m.config.digest) throw new ImageError('DigestMismatch', `config blob ${m.config.digest} does not match its content`);
  const ids = diffIds(JSON.parse(configBlob.toString()));
  if (ids.length !== m.layers.length) throw new ImageError('PullFailed', 'manifest and config disagree on the number of layers');
  let fetched = 0;
  const layers = m.layers.map((l, i) => ({
    diffId: ids[i],
    digest: l.digest,
    open: async () => {
      fetched++;
      return (await session.get(`blobs/${l.digest}`)).body;
    },
  }));
  const record = await ctx.store.ingest({
    names,
    configDigest: m.config.digest,
    configBlob,
    manifestDigest: manifest.digest,
    manifestBlob: manifest.body,
    layers,
  });
  ctx.log.info('pulled', { image: names[0] ?? formatReference(ref), endpoint: session.endpoint, layersFetched: fetched, layers: layers.length });
  return record;
}

/** Pulls `ref`; tries each endpoint (mirrors first) and each credential until one works. */
export async function pullImage(refText: string, ctx: PullContext): Promise<ImageRecord> {
  const ref = parseReference(refText);
  // A digest-only reference names no tag to record; the image is found again by repo@digest.
  const names = ref.digest && !ref.tag ? [] : [formatReference({ ...ref, digest: undefined })];
  const repository = ref.path;
  let lastError: unknown;
  for (const endpoint of endpointsFor(ctx.registries, ref.domain)) {
    const tls = ctx.registries.configs[hostKey(endpoint)]?.tls ?? ctx.registries.configs[ref.domain]?.tls;
    for (const credential of credentialsFor(ctx, ref.domain, endpoint)) {
      ctx.signal?.throwIfAborted();
      const session = new RegistrySession({ endpoint, repository, credential, tls, signal: ctx.signal });
      try {
        return await pullFrom(session, ref, names, ctx);
      } catch (err) {
        lastError = err;
        if (ctx.signal?.aborted) throw err;
        if (isImageError(err, 'Unauthorized')) continue; // next credential
        break; // next endpoint
      }
    }
    ctx.log.debug('pull from endpoint failed', { endpoint, error: String(lastError) });
  }
  if (isImageError(lastError)) throw lastError;
  throw new ImageError('PullFailed', `pulling ${refText}: ${(lastError as Error)?.message ?? 'no endpoint'}`, { cause: lastError });
}
