// The ingress's listeners: TCP and TLS servers whose connections start on
// the fast path (fast-path.ts) and move to a node:http server (proxy.ts,
// never listening itself) when a request needs more than plain HTTP/1.1:
// upgrades, Expect, HTTP/1.0, or anything the strict parser turns down.
import { Agent, createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from '../../lib/log.ts';
import { serveConnection } from './fast-path.ts';
import { createProxyHandlers, type Target } from './proxy.ts';
import type { CertificateStore } from './tls.ts';
import { UpstreamPool } from './upstream-pool.ts';

/** Idle client connections stay open this long between requests (nginx's keepalive_timeout is 75 s). */
const CLIENT_KEEPALIVE_TIMEOUT_MS = 75_000;
/** A client must finish sending request headers within this (nginx's client_header_timeout is 60 s). */
const CLIENT_HEADERS_TIMEOUT_MS = 60_000;
/** Idle upstream connections node:http keeps per endpoint (the fallback path; the fast path has its own pool). */
const AGENT_MAX_FREE_SOCKETS = 64;
/** How long in-flight requests get on shutdown before connections are cut. */
const SHUTDOWN_GRACE_MS = 1_000;
/** A TLS handshake that takes longer than this is dropped (node's default is 120 s, generous for a proxy). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export type ListenerOptions = {
  pick(host: string | undefined, url: string | undefined): Target;
  certs: CertificateStore;
  httpPort: number;
  httpsPort: number;
  bind: string;
  /**
   * Share the ports with other listeners (worker threads) through SO_REUSEPORT;
   * the kernel spreads connections. 'first' checks the ports are free before
   * (so a second skiff on the same address fails instead of splitting traffic
   * with the first); 'join' binds beside a 'first'.
   */
  reusePort?: 'first' | 'join';
  /** Idle limit on upstream connections (default UPSTREAM_IDLE_TIMEOUT_MS). */
  upstreamTimeoutMs?: number;
  log?: Logger;
};

export type Listeners = { http: AddressInfo; https: AddressInfo; close(): Promise<void> };

function fallbackServer(handlers: ReturnType<typeof createProxyHandlers>): Server {
  const server = createHttpServer(handlers.request);
  server.keepAliveTimeout = CLIENT_KEEPALIVE_TIMEOUT_MS;
  server.headersTimeout = CLIENT_HEADERS_TIMEOUT_MS;
  server.requestTimeout = 0; // long uploads and streams are fine; idle limits apply instead
  server.on('upgrade', handlers.upgrade as (req: IncomingMessage, socket: Duplex, head: Buffer) => void);
  server.on('clientError', (_err, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

/** Fails with EADDRINUSE when something already listens on the port (SO_REUSEPORT listeners included). */
async function checkFree(port: number, bind: string): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await listen(probe, port, bind, false);
  await new Promise((r) => probe.close(r));
}

function listen(server: NetServer, port: number, bind: string, reusePort: boolean): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: bind, reusePort }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startListeners(options: ListenerOptions): Promise<Listeners> {
  const { pick, certs, log, upstreamTimeoutMs } = options;
  const pool = new UpstreamPool();
  const agent = new Agent({ keepAlive: true, maxFreeSockets: AGENT_MAX_FREE_SOCKETS, scheduling: 'lifo' });
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const handOffTo = (server: Server) => (socket: Socket, pending: Buffer | undefined) => {
    if (pending) socket.unshift(pending);
    server.emit('connection', socket);
  };
  const plainFallback = handOffTo(fallbackServer(createProxyHandlers({ pick, agent, proto: 'http', upstreamTimeoutMs, log })));
  const secureFallback = handOffTo(fallbackServer(createProxyHandlers({ pick, agent, proto: 'https', upstreamTimeoutMs, log })));
  const httpServer = createNetServer({ noDelay: true }, (socket) => {
    track(socket);
    serveConnection(socket, { pick, pool, proto: 'http', handOff: plainFallback, upstreamTimeoutMs, log });
  });
  const httpsServer = createTlsServer({ ...certs.serverOptions(), ALPNProtocols: ['http/1.1'], handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, (socket) => {
    track(socket);
    socket.setNoDelay(true);
    serveConnection(socket, { pick, pool, proto: 'https', handOff: secureFallback, upstreamTimeoutMs, log });
  });
  httpsServer.on('tlsClientError', (err) => log?.debug('TLS handshake failed', { err: err.message }));
  const close = async () => {
    const closing = [httpServer, httpsServer].map((s) => new Promise((r) => s.close(r)));
    const timer = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, SHUTDOWN_GRACE_MS);
    await Promise.all(closing);
    clearTimeout(timer);
    pool.destroy();
    agent.destroy();
  };
  const reusePort = options.reusePort !== undefined;
  if (options.reusePort === 'first') {
    await checkFree(options.httpPort, options.bind);
    await checkFree(options.httpsPort, options.bind);
  }
  const http = await listen(httpServer, options.httpPort, options.bind, reusePort);
  const https = await listen(httpsServer, options.httpsPort, options.bind, reusePort).catch(async (err) => {
    await new Promise((r) => httpServer.close(r));
    throw err;
  });
  return { http, https, close };
}
