// imagePullSecrets: the kubelet reads Secrets of type
// kubernetes.io/dockerconfigjson (`.dockerconfigjson`: {"auths": {host: {...}}})
// or kubernetes.io/dockercfg (`.dockercfg`: {host: {...}}) and passes their
// entries on as RegistryAuth.
import type { RegistryAuth } from '../types.ts';

type Entry = { username?: string; password?: string; auth?: string; identitytoken?: string; identityToken?: string };

/**
 * Decodes a docker config (as text, bytes, or the base64 string a Secret's
 * `data` holds). Entries with only `auth` get username/password from it.
 */
export function decodeDockerConfig(input: string | Buffer, options: { base64?: boolean } = {}): RegistryAuth[] {
  const text = options.base64 ? Buffer.from(input.toString(), 'base64').toString() : input.toString();
  const parsed = JSON.parse(text) as { auths?: Record<string, Entry> } & Record<string, Entry>;
  const entries = parsed.auths && typeof parsed.auths === 'object' ? parsed.auths : (parsed as Record<string, Entry>);
  const out: RegistryAuth[] = [];
  for (const [registry, e] of Object.entries(entries)) {
    if (!e || typeof e !== 'object') continue;
    let { username, password } = e;
    if (username === undefined && e.auth) {
      const decoded = Buffer.from(e.auth, 'base64').toString();
      const colon = decoded.indexOf(':');
      if (colon !== -1) {
        username = decoded.slice(0, colon);
        password = decoded.slice(colon + 1);
      }
    }
    const identityToken = e.identitytoken ?? e.identityToken;
    out.push({ registry, username, password, auth: e.auth, ...(identityToken ? { identityToken } : {}) });
  }
  return out;
}

/** All credentials from a list of pull Secrets (`type` and base64 `data` as the API returns them). */
export function registryAuthFromSecrets(secrets: { type?: string; data?: Record<string, string> }[]): RegistryAuth[] {
  const out: RegistryAuth[] = [];
  for (const s of secrets) {
    const json = s.type === 'kubernetes.io/dockerconfigjson' ? s.data?.['.dockerconfigjson'] : s.type === 'kubernetes.io/dockercfg' ? s.data?.['.dockercfg'] : undefined;
    if (!json) continue;
    try {
      out.push(...decodeDockerConfig(json, { base64: true }));
    } catch {
      // A malformed secret contributes nothing, as in the kubelet.
    }
  }
  return out;
}
