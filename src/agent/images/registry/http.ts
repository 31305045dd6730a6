// A small HTTP(S) client for registries: per-host TLS settings (CA file,
// skip verify), redirects (blob downloads often redirect to storage; the
// Authorization header is dropped when the host changes), streamed bodies.
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { ImageError } from '../errors.ts';

/** Registries redirect blobs once or twice (to a CDN or object store); more is a loop. */
const MAX_REDIRECTS = 5;
/** A registry that does not answer headers within this is down (bodies may take longer). */
const RESPONSE_TIMEOUT_MS = 30_000;

export type TlsOptions = { insecureSkipVerify?: boolean; caFile?: string };

export type HttpResponse = {
  status: number;
  headers: IncomingMessage['headers'];
  url: string;
  body: IncomingMessage;
  text(): Promise<string>;
  buffer(limit: number): Promise<Buffer>;
};

function collect(res: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        res.destroy(new ImageError('PullFailed', `response from ${res.url ?? 'registry'} larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** Text responses (errors, tokens) are small; cap them. */
const TEXT_LIMIT = 4 << 20;

export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer; tls?: TlsOptions; signal?: AbortSignal } = {},
  redirects = 0,
): Promise<HttpResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === 'https:';
  const mod = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      target,
      {
        method: options.method ?? 'GET',
        headers: { 'user-agent': 'skiff', ...options.headers, ...(options.body ? { 'content-length': String(options.body.length) } : {}) },
        signal: options.signal,
        timeout: RESPONSE_TIMEOUT_MS,
        ...(isHttps
          ? { rejectUnauthorized: !options.tls?.insecureSkipVerify, ca: options.tls?.caFile ? readFileSync(options.tls.caFile) : undefined }
          : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if ([301, 302, 303, 307, 308].includes(status) && location) {
          res.resume();
          if (redirects >= MAX_REDIRECTS) return reject(new ImageError('PullFailed', `too many redirects from ${url}`));
          const next = new URL(location, target);
          const headers = { ...options.headers };
          if (next.host !== target.host) delete headers.authorization;
          const method = status === 303 ? 'GET' : options.method;
          resolve(request(next.toString(), { ...options, method, headers }, redirects + 1));
          return;
        }
        resolve({
          status,
          headers: res.headers,
          url,
          body: res,
          text: async () => (await collect(res, TEXT_LIMIT)).toString(),
          buffer: (limit) => collect(res, limit),
        });
      },
    );
    req.on('timeout', () => req.destroy(new ImageError('PullFailed', `no response from ${target.host} within ${RESPONSE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Parses `Bearer realm="…",service="…",scope="…"` (or `Basic realm=…`). */
export function parseChallenge(header: string | undefined): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1].toLowerCase()] = p[2] ?? p[3];
  return { scheme: m[1].toLowerCase(), params };
}
