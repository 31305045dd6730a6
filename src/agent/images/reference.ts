// Image references, normalised as Docker and containerd do:
// `nginx:1.14.2` → `docker.io/library/nginx:1.14.2`, `nginx` → `:latest`,
// `localhost:5000/x` keeps its registry, `repo@sha256:…` keeps its digest.
import { ImageError } from './errors.ts';

export const DEFAULT_DOMAIN = 'docker.io';
/** Docker Hub's official images live under this namespace. */
const OFFICIAL_NAMESPACE = 'library';
/** The legacy Hub name some tools still write. */
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const DEFAULT_TAG = 'latest';

// From distribution/reference's grammar.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;
/** Docker's limit on a repository name (domain + path). */
const MAX_NAME_LENGTH = 255;

export type ImageReference = {
  /** Registry host (and port): `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/nginx`. */
  path: string;
  tag?: string;
  /** `sha256:<hex>` when the reference pins a manifest. */
  digest?: string;
};

function invalid(ref: string, why: string): ImageError {
  return new ImageError('InvalidImageName', `invalid image reference "${ref}": ${why}`);
}

function splitDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  // A first component is a registry host when it looks like one (has a dot or port, or is localhost).
  const isDomain = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let domain = isDomain ? first : DEFAULT_DOMAIN;
  let remainder = isDomain ? name.slice(slash + 1) : name;
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `${OFFICIAL_NAMESPACE}/${remainder}`;
  return { domain, remainder };
}

/** Parses a (possibly familiar) reference; throws ImageError('InvalidImageName'). */
export function parseReference(ref: string): ImageReference {
  if (!ref || ref.trim() !== ref) throw invalid(ref, 'empty or has surrounding spaces');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, 'bad digest');
    if (digest.startsWith('sha256:') && !SHA256_HEX.test(digest.slice(7))) throw invalid(ref, 'bad sha256 digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, 'bad tag');
  }
  if (SHA256_HEX.test(rest) && !tag && !digest) throw invalid(ref, 'cannot specify 64-byte hexadecimal strings');
  const { domain, remainder } = splitDomain(rest);
  if (!domain || /[^A-Za-z0-9.:[\]-]/.test(domain)) throw invalid(ref, 'bad registry host');
  if (remainder !== remainder.toLowerCase()) throw invalid(ref, 'repository name must be lowercase');
  if (!remainder.split('/').every((c) => PATH_COMPONENT.test(c))) throw invalid(ref, 'bad repository name');
  if (domain.length + 1 + remainder.length > MAX_NAME_LENGTH) throw invalid(ref, 'repository name too long');
  return { domain, path: remainder, tag, digest };
}

/** `docker.io/library/nginx` */
export function repositoryOf(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical string; a reference with neither tag nor digest gets `:latest`. */
export function formatReference(ref: ImageReference): string {
  const tag = ref.tag ?? (ref.digest ? undefined : DEFAULT_TAG);
  return `${repositoryOf(ref)}${tag ? `:${tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** `nginx:1.14.2` → `docker.io/library/nginx:1.14.2` (throws on invalid references). */
export function normalizeReference(ref: string): string {
  return formatReference(parseReference(ref));
}

/** The short form Docker shows: `nginx:1.14.2`, `user/app:v1`, `localhost:5000/x:1`. */
export function familiarName(ref: ImageReference): string {
  let name = repositoryOf(ref);
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path.startsWith(`${OFFICIAL_NAMESPACE}/`) ? ref.path.slice(OFFICIAL_NAMESPACE.length + 1) : ref.path;
  }
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Whether `s` looks like an image ID or a prefix of one (`sha256:abc…`, `abc123…`). */
export function isIdLike(s: string): boolean {
  const hex = s.startsWith('sha256:') ? s.slice(7) : s;
  return /^[a-f0-9]{12,64}$/.test(hex);
}
