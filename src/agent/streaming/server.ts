// The agent's authenticated HTTPS port (the kubelet's :10250): logs, exec,
// attach, port-forward and stats for the API server, which alone may call it —
// its client certificate must chain to the cluster CA and name the API server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { KubeObject } from '../../api/types.ts';
import type { Logger } from '../../lib/log.ts';
import { chooseProtocol, EXEC_PROTOCOLS } from './channels.ts';
import { parseLogOptions } from './cri-log.ts';
import { serveAttach, serveExec, streamFlags } from './exec.ts';
import { containerLogPath, streamLog } from './log-files.ts';
import { containerInstance, StreamError } from './pod-lookup.ts';
import { PORT_FORWARD_PROTOCOL, podDialer, servePortForward, TUNNEL_PROTOCOL, tcpDialer } from './port-forward.ts';
import { StatsCollector } from './stats.ts';
import { APISERVER_CLIENT_CN, type StreamingBackend } from './types.ts';

/** What ws is shown instead of the tunnel subprotocol (any valid token). */
const TUNNEL_PLACEHOLDER = 'skiff-spdy-tunnel';
/** extendedKeyUsage clientAuth: a certificate made for serving cannot call the agent. */
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

export type StreamingServerOptions = {
  tls: { caPem: string; certPem: string; keyPem: string };
  port: number;
  bind: string;
  nodeName: string;
  backend: StreamingBackend;
  signal: AbortSignal;
  log: Logger;
};

export type StreamingServer = { port: number; closed: Promise<void> };

type Route = { kind: string; namespace: string; pod: string; container: string; query: URLSearchParams };

function parseRoute(url: string): Route | undefined {
  const parsed = new URL(url, 'https://agent');
  const parts = parsed.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.join('/') === 'stats/summary') return { kind: 'summary', namespace: '', pod: '', container: '', query: parsed.searchParams };
  if (parts.length === 4 && ['containerLogs', 'exec', 'attach'].includes(parts[0])) {
    return { kind: parts[0], namespace: parts[1], pod: parts[2], container: parts[3], query: parsed.searchParams };
  }
  if (parts.length === 3 && parts[0] === 'portForward') return { kind: 'portForward', namespace: parts[1], pod: parts[2], container: '', query: parsed.searchParams };
  return undefined;
}

/** True when the peer presented the API server's client certificate (the CA check is TLS's). */
export function isApiServer(socket: TLSSocket): boolean {
  if (!socket.authorized) return false;
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  const usages = (cert as { ext_key_usage?: string[] }).ext_key_usage ?? [];
  return cn === APISERVER_CLIENT_CN && usages.includes(CLIENT_AUTH_OID);
}

function sendText(res: ServerResponse, code: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(message);
}

function rejectUpgrade(socket: Socket, code: number, message: string): void {
  const body = Buffer.from(message);
  socket.end(`HTTP/1.1 ${code} ${code === 403 ? 'Forbidden' : 'Error'}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${message}`);
}

export async function startStreamingServer(options: StreamingServerOptions): Promise<StreamingServer> {
  const { backend, log } = options;
  const stats = new StatsCollector(backend, options.nodeName);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  // "SPDY/3.1+portforward.k8s.io" is not an RFC 7230 token ('/'), which ws refuses; Go's gorilla
  // accepts it. The request carries a placeholder to ws, and the real name goes back in the 101.
  const tunnelWss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: () => TUNNEL_PROTOCOL });

  const podOf = (route: Route): KubeObject => {
    const pod = backend.getPod(route.namespace, route.pod);
    if (!pod) throw new StreamError(404, `pod "${route.pod}" not found on this node`);
    return pod;
  };
  const isRunning = (id: string | undefined) => async () => (id ? (await backend.runtime.state(id))?.status === 'running' : false);
  const logPathOf = (pod: KubeObject, container: string, restartCount: number) =>
    containerLogPath(backend.logsDir, { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' }, container, restartCount);

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isApiServer(req.socket as TLSSocket)) return sendText(res, 403, 'forbidden: only the API server may use this port');
    const route = parseRoute(req.url ?? '/');
    if (route?.kind === 'summary') {
      const body = JSON.stringify(await stats.summary());
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(body);
    }
    if (route?.kind !== 'containerLogs') return sendText(res, 404, 'not found');
    const pod = podOf(route);
    const logOptions = (() => {
      try {
        return parseLogOptions(route.query, Date.now());
      } catch (err) {
        throw new StreamError(400, (err as Error).message);
      }
    })();
    const instance = containerInstance(pod, route.container, { previous: logOptions.previous });
    const path = logPathOf(pod, route.container, instance.restartCount);
    const done = new AbortController();
    res.on('close', () => done.abort());
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    await streamLog({ path, options: logOptions, out: res, isRunning: isRunning(instance.running ? instance.id : undefined), signal: done.signal }).catch((err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
    res.end();
  }

  function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (!isApiServer(socket as TLSSocket)) {
      rejectUpgrade(socket, 403, 'forbidden: only the API server may use this port');
      return;
    }
    const route = parseRoute(req.url ?? '/');
    try {
      if (!route || !['exec', 'attach', 'portForward'].includes(route.kind)) {
        rejectUpgrade(socket, 404, 'not found');
        return;
      }
      const pod = podOf(route);
      if (route.kind === 'portForward') {
        upgradePortForward(req, socket, head, pod);
        return;
      }
      const instance = containerInstance(pod, route.container, { previous: false });
      if (!instance.running || !instance.id) {
        throw new StreamError(400, `container ${route.container} is not running${instance.waitingReason ? ` (${instance.waitingReason})` : ''}`);
      }
      const protocol = chooseProtocol((req.headers['sec-websocket-protocol'] ?? '').split(','), EXEC_PROTOCOLS);
      if (!protocol || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        throw new StreamError(400, `unsupported streaming protocol; supported: ${EXEC_PROTOCOLS.join(', ')} over WebSocket`);
      }
      const id = instance.id;
      const flags = streamFlags(route.query);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const served =
          route.kind === 'exec'
            ? serveExec({ ws, protocol, flags, command: route.query.getAll('command'), run: (command, streams) => backend.runtime.exec(id, command, streams), log })
            : serveAttach({ ws, protocol, flags, logPath: logPathOf(pod, route.container, instance.restartCount), isRunning: isRunning(id), stdinOf: id && backend.attachStdin ? () => backend.attachStdin!(id) : undefined });
        served.catch((err) => log.warn('stream failed', { kind: route.kind, err }));
      });
    } catch (err) {
      const code = err instanceof StreamError ? err.code : 500;
      rejectUpgrade(socket, code, (err as Error).message);
    }
  }

  function upgradePortForward(req: IncomingMessage, socket: Socket, head: Buffer, pod: KubeObject): void {
    const host = pod.spec?.hostNetwork ? '127.0.0.1' : pod.status?.podIP;
    if (!host) throw new StreamError(400, `pod ${pod.metadata.name} has no IP address yet`);
    // A hostNetwork pod shares this node's namespace; another pod's localhost is reached through its own.
    const netnsPath = pod.spec?.hostNetwork ? undefined : backend.podNetnsPath?.(pod);
    const dial = netnsPath ? podDialer({ podIp: host, netnsPath, log }) : tcpDialer(host);
    const target = { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', uid: pod.metadata.uid ?? '' };
    if ((req.headers.upgrade ?? '').toLowerCase() === 'websocket') {
      const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!offered.includes(TUNNEL_PROTOCOL)) throw new StreamError(400, `port-forward needs the ${TUNNEL_PROTOCOL} subprotocol`);
      req.headers['sec-websocket-protocol'] = TUNNEL_PLACEHOLDER;
      tunnelWss.handleUpgrade(req, socket, head, (ws) => {
        const session = servePortForward({
          transport: { write: (data) => ws.send(data, { binary: true }), close: () => ws.close(1000) },
          dial,
          pod: target,
          log,
        });
        ws.on('message', (data: Buffer) => session.receive(data));
        ws.on('close', () => session.close());
      });
      return;
    }
    // SPDY/3.1 over the raw connection (kubectl's fallback when WebSockets are off).
    const versions = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((v) => v.trim());
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1' || !versions.includes(PORT_FORWARD_PROTOCOL)) {
      throw new StreamError(400, 'unsupported port-forward protocol');
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
    const session = servePortForward({ transport: { write: (data) => socket.write(data), close: () => socket.end() }, dial, pod: target, log });
    if (head.length) session.receive(head);
    socket.on('data', (data: Buffer) => session.receive(data));
    socket.on('close', () => session.close());
    socket.on('error', () => session.close());
  }

  const server = createServer(
    { ca: options.tls.caPem, cert: options.tls.certPem, key: options.tls.keyPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      onRequest(req, res).catch((err) => {
        const code = err instanceof StreamError ? err.code : 500;
        if (code === 500) log.warn('agent request failed', { url: req.url, err });
        sendText(res, code, (err as Error).message);
      });
    },
  );
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind, () => resolve());
  });
  const closed = new Promise<void>((resolve) => {
    const stop = () => {
      for (const client of [...wss.clients, ...tunnelWss.clients]) client.terminate();
      server.close(() => resolve());
      server.closeAllConnections();
    };
    if (options.signal.aborted) stop();
    else options.signal.addEventListener('abort', stop, { once: true });
  });
  return { port: (server.address() as AddressInfo).port, closed };
}
