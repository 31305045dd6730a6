// Registry mirrors and credentials, in the shape of k3s' registries.yaml:
//
//   mirrors:
//     docker.io:
//       endpoint: ["http://127.0.0.1:5000"]
//   configs:
//     "127.0.0.1:5000":
//       auth: { username: u, password: p }      # or auth: <base64 user:pass>, identity_token
//       tls: { insecure_skip_verify: true, ca_file: /path/ca.pem }
//
// Read from <data-dir>/registries.yaml, else /etc/skiff/registries.yaml.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_DOMAIN } from '../reference.ts';

export const SYSTEM_REGISTRIES_FILE = '/etc/skiff/registries.yaml';
/** Docker Hub's API endpoint (docker.io is only its name). */
export const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io';

export type RegistryHostConfig = {
  auth?: { username?: string; password?: string; auth?: string; identityToken?: string };
  tls?: { insecureSkipVerify?: boolean; caFile?: string };
};

export type RegistriesConfig = {
  mirrors: Record<string, { endpoints: string[] }>;
  configs: Record<string, RegistryHostConfig>;
};

export const emptyRegistriesConfig = (): RegistriesConfig => ({ mirrors: {}, configs: {} });

type RawConfig = {
  mirrors?: Record<string, { endpoint?: string[] }>;
  configs?: Record<
    string,
    {
      auth?: { username?: string; password?: string; auth?: string; identity_token?: string; identitytoken?: string };
      tls?: { insecure_skip_verify?: boolean; ca_file?: string };
    }
  >;
};

/**
 * Parses registries.yaml text (also accepts JSON). The YAML library is
 * imported here, on first use: most nodes have no such file, and an agent
 * should not carry a parser it never calls.
 */
export async function parseRegistriesConfig(text: string): Promise<RegistriesConfig> {
  const { parse } = await import('yaml');
  const raw = (parse(text) ?? {}) as RawConfig;
  const out = emptyRegistriesConfig();
  for (const [host, m] of Object.entries(raw.mirrors ?? {})) {
    out.mirrors[hostKey(host)] = { endpoints: (m?.endpoint ?? []).map(String) };
  }
  for (const [host, c] of Object.entries(raw.configs ?? {})) {
    out.configs[hostKey(host)] = {
      auth: c?.auth && {
        username: c.auth.username,
        password: c.auth.password,
        auth: c.auth.auth,
        identityToken: c.auth.identity_token ?? c.auth.identitytoken,
      },
      tls: c?.tls && { insecureSkipVerify: c.tls.insecure_skip_verify, caFile: c.tls.ca_file },
    };
  }
  return out;
}

/** Loads the first registries file that exists; none means no mirrors and anonymous pulls. */
export async function loadRegistriesConfig(dataDir: string): Promise<RegistriesConfig> {
  for (const file of [join(dataDir, 'registries.yaml'), SYSTEM_REGISTRIES_FILE]) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    return parseRegistriesConfig(text);
  }
  return emptyRegistriesConfig();
}

/**
 * A registry key as written by users (`https://index.docker.io/v1/`,
 * `registry-1.docker.io`, `myreg:5000/path`) reduced to a host[:port],
 * with Docker Hub's aliases folded into docker.io.
 */
export function hostKey(s: string): string {
  const host = s.replace(/^[a-z]+:\/\//, '').split('/')[0].toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DEFAULT_DOMAIN : host;
}

/** Endpoints to try for a registry: mirrors in order, then the registry itself (as k3s does). */
export function endpointsFor(config: RegistriesConfig, domain: string): string[] {
  const own = domain === DEFAULT_DOMAIN ? DOCKER_HUB_ENDPOINT : defaultEndpoint(domain);
  const mirrors = (config.mirrors[domain]?.endpoints ?? config.mirrors['*']?.endpoints ?? []).map((e) => e.replace(/\/+$/, ''));
  return [...new Set([...mirrors, own])];
}

/** Loopback registries speak plain HTTP (Docker's default insecure registries); others HTTPS. */
export function defaultEndpoint(domain: string): string {
  const host = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return `${loopback ? 'http' : 'https'}://${domain}`;
}
