// The transport under the typed client: HTTPS with keep-alive to one API
// server, bearer-token auth, JSON bodies, Status errors as ApiError.
import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { ApiError } from '../api/errors.ts';
import { isObject } from '../api/types.ts';

/** Sockets kept open per server: controllers issue bursts of small requests (namespace cleanup, GC). */
const MAX_FREE_SOCKETS = 32;
/** A plain request that takes longer than this is treated as failed (watches are exempt). */
export const REQUEST_TIMEOUT_MS = 60_000;

export type Transport = {
  /** One request; resolves with the parsed JSON body (undefined when empty); throws ApiError on >= 400. */
  request<T = unknown>(options: RequestOptions): Promise<T>;
  /** One request whose response is streamed to the caller (watch); throws ApiError on >= 400. */
  stream(options: RequestOptions): Promise<{ response: IncomingMessage; abort(): void }>;
  close(): void;
};

export type RequestOptions = {
  method?: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
};

export type TransportOptions = { server: string; caPem: string; token: string; userAgent?: string };

export function pathWithQuery(path: string, query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Builds an ApiError from a response body: a Kubernetes Status when the server sent one. */
export function errorFromResponse(code: number, text: string): ApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {}
  if (isObject(body) && body.kind === 'Status') {
    const status = body as { code?: number; reason?: string; message?: string; details?: ApiError['details'] };
    return new ApiError(status.code ?? code, status.reason ?? 'Unknown', status.message ?? text, status.details);
  }
  return new ApiError(code, 'Unknown', text.trim() || `the server responded with status ${code}`);
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

export function createTransport(options: TransportOptions): Transport {
  const base = new URL(options.server);
  const agent = new Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, ca: options.caPem });
  const userAgent = options.userAgent ?? 'skiff-controller/v0.1.0';

  const open = (opts: RequestOptions, timeoutMs: number) =>
    new Promise<{ response: IncomingMessage; abort(): void }>((resolve, reject) => {
      const payload =
        opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      const headers: Record<string, string | number> = {
        Authorization: `Bearer ${options.token}`,
        Accept: opts.accept ?? 'application/json',
        'User-Agent': userAgent,
      };
      if (payload !== undefined) {
        headers['Content-Type'] = opts.contentType ?? 'application/json';
        headers['Content-Length'] = Buffer.byteLength(payload);
      }
      const req = httpsRequest({
        host: base.hostname,
        port: base.port || 443,
        method: opts.method ?? 'GET',
        path: pathWithQuery(opts.path, opts.query),
        headers,
        agent,
        signal: opts.signal,
        timeout: timeoutMs,
      });
      req.once('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms: ${opts.path}`)));
      req.once('error', reject);
      req.once('response', (response) => resolve({ response, abort: () => req.destroy() }));
      req.end(payload);
    });

  return {
    async request<T>(opts: RequestOptions): Promise<T> {
      const { response } = await open(opts, REQUEST_TIMEOUT_MS);
      const text = await readAll(response);
      const code = response.statusCode ?? 0;
      if (code >= 400) throw errorFromResponse(code, text);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async stream(opts: RequestOptions) {
      // No socket timeout: a watch may be idle for minutes between events.
      const opened = await open(opts, 0);
      const code = opened.response.statusCode ?? 0;
      if (code >= 400) {
        throw errorFromResponse(code, await readAll(opened.response));
      }
      return opened;
    },
    close() {
      agent.destroy();
    },
  };
}
