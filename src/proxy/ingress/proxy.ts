// The ingress data path: an HTTP/1.1 reverse proxy from a client connection to
// one endpoint, over pooled keep-alive upstream connections, streaming bodies
// both ways; upgrades (WebSocket) are spliced at the socket level.
import { type Agent, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../lib/log.ts';
import type { Endpoint } from './backends.ts';
import { downstreamResponseHeaders, hasRequestBody, plainIp, upstreamRequestHeaders } from './headers.ts';

/** Waiting this long for an upstream's connection or its next bytes means it is stuck (nginx's proxy_*_timeout is 60 s). */
export const UPSTREAM_IDLE_TIMEOUT_MS = 60_000;
/** A connect that takes longer than this fails over to 504 (nginx's proxy_connect_timeout is 60 s; loopback and bridges answer in microseconds). */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 5_000;

/** Where a request goes: an endpoint, or an error status (404 no rule, 503 no endpoints or not synced). */
export type Target = { endpoint: Endpoint; status?: undefined } | { endpoint?: undefined; status: number };

export type ProxyHandlerOptions = {
  pick(host: string | undefined, url: string | undefined): Target;
  agent: Agent;
  proto: 'http' | 'https';
  /** Idle limit on upstream connections (default UPSTREAM_IDLE_TIMEOUT_MS). */
  upstreamTimeoutMs?: number;
  log?: Logger;
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const MESSAGES: Record<number, string> = {
  404: '404 page not found',
  502: 'Bad Gateway',
  503: 'Service Unavailable: no available server',
  504: 'Gateway Timeout',
};

/** The proxy's own answer bodies, short text like Traefik's. */
export function errorBody(status: number): string {
  return `${MESSAGES[status] ?? String(status)}\n`;
}

/** The reason phrase for a status line. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** A small text page for the proxy's own answers. */
export function sendError(res: ServerResponse, status: number): void {
  const body = errorBody(status);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function rawError(socket: Duplex, status: number): void {
  const body = errorBody(status);
  socket.end(
    `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** TCP keep-alive probes on upgraded connections start after this much silence. */
const UPGRADED_KEEPALIVE_MS = 60_000;

class UpstreamTimeout extends Error {}

export function createProxyHandlers(options: ProxyHandlerOptions): {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
} {
  const { pick, agent, proto, log } = options;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? UPSTREAM_IDLE_TIMEOUT_MS;

  const request = (req: IncomingMessage, res: ServerResponse): void => {
    const target = pick(req.headers.host, req.url);
    if (target.status !== undefined) {
      req.resume();
      sendError(res, target.status);
      return;
    }
    const { endpoint } = target;
    const headers = upstreamRequestHeaders(req.rawHeaders, {
      clientIp: plainIp(req.socket.remoteAddress),
      proto,
      port: req.socket.localPort ?? 0,
    });
    const body = hasRequestBody(req.headers);
    let upstream: ReturnType<typeof httpRequest> | undefined;
    let finished = false;
    res.once('close', () => {
      // The client went away before the answer was complete: free the upstream connection.
      if (!res.writableFinished) upstream?.destroy();
    });
    res.once('finish', () => {
      finished = true;
    });
    const forward = (mayRetry: boolean) => {
      const up = httpRequest({
        host: endpoint.address,
        port: endpoint.port,
        method: req.method,
        path: req.url,
        headers: headers as unknown as Record<string, string>,
        setHost: false,
        agent,
        timeout: upstreamTimeoutMs,
      });
      upstream = up;
      let responded = false;
      up.on('response', (ur) => {
        responded = true;
        res.writeHead(ur.statusCode ?? 502, ur.statusMessage, downstreamResponseHeaders(ur.rawHeaders));
        ur.pipe(res);
        ur.once('error', () => res.destroy());
        ur.once('aborted', () => res.destroy());
      });
      up.on('timeout', () => up.destroy(new UpstreamTimeout('upstream timed out')));
      up.on('error', (err: NodeJS.ErrnoException) => {
        // A pooled connection the upstream had already closed: safe to send again when there is no body.
        if (mayRetry && !body && !responded && up.reusedSocket && err.code === 'ECONNRESET') {
          forward(false);
          return;
        }
        if (finished) return;
        if (!res.headersSent) {
          log?.debug('upstream failed', { endpoint: `${endpoint.address}:${endpoint.port}`, err: err.message });
          req.resume();
          sendError(res, err instanceof UpstreamTimeout ? 504 : 502);
        } else {
          res.destroy();
        }
      });
      if (body) req.pipe(up);
      else up.end();
    };
    forward(true);
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {}); // resets from either side are normal endings here
    const target = pick(req.headers.host, req.url);
    if (target.status !== undefined) {
      rawError(socket, target.status);
      return;
    }
    const { endpoint } = target;
    const client = req.socket;
    client.setTimeout(0); // a WebSocket may stay quiet for long; TCP keep-alive below notices dead peers
    client.setKeepAlive(true, UPGRADED_KEEPALIVE_MS);
    const headers = upstreamRequestHeaders(
      req.rawHeaders,
      {
        clientIp: plainIp(client.remoteAddress),
        proto,
        port: client.localPort ?? 0,
      },
      { upgrade: true },
    );
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    text += '\r\n';
    const up: Socket = connect({ host: endpoint.address, port: endpoint.port });
    let connected = false;
    up.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () => {
      if (!connected) rawError(socket, 504);
      up.destroy();
    });
    up.once('connect', () => {
      connected = true;
      up.setTimeout(0);
      up.setNoDelay(true);
      up.setKeepAlive(true, UPGRADED_KEEPALIVE_MS);
      up.write(text);
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', (err) => {
      if (!connected) {
        log?.debug('upstream upgrade failed', { endpoint: `${endpoint.address}:${endpoint.port}`, err: err.message });
        rawError(socket, 502);
      } else socket.destroy();
    });
    up.once('close', () => socket.destroy());
    socket.once('close', () => up.destroy());
  };

  return { request, upgrade };
}
