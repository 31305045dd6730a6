// The actions probes and lifecycle hooks run: httpGet (from the node into the
// pod's address), tcpSocket and exec (through the runtime). Each resolves to
// an outcome and a message in kubelet's wording; none throws.
import { request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRuntime } from '../types.ts';
import { PROBE_MAX_BODY_BYTES } from './constants.ts';
import type { ContainerSpec } from './model.ts';

export type Outcome = { ok: boolean; message: string };

/** Resolves a port given as number, numeric string or the name of one of the container's ports. */
export function resolvePort(port: unknown, container: ContainerSpec): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  const named = (container.ports ?? []).find((p: { name?: string }) => p.name === port);
  return named?.containerPort;
}

export type HandlerContext = {
  runtime: ContainerRuntime;
  containerId: string;
  container: ContainerSpec;
  podIp?: string;
  /** Undefined: no limit (kubelet gives a postStart hook all the time it takes). */
  timeoutMs?: number;
  /** Gives up at once (the pod was deleted during a postStart hook, or the agent stops). */
  signal?: AbortSignal;
  /**
   * A lifecycle hook's httpGet succeeds on any HTTP response (kubelet looks only
   * for transport errors) and says "kube-lifecycle"; a probe's needs 2xx/3xx.
   */
  purpose?: 'probe' | 'lifecycle';
};

/** The User-Agent kubelet sends (kube-probe/<major>.<minor> or kube-lifecycle/<major>.<minor>). */
const userAgent = (purpose: HandlerContext['purpose']) => `kube-${purpose ?? 'probe'}/1.32`;

function httpGet(action: Record<string, unknown>, ctx: HandlerContext): Promise<Outcome> {
  const port = resolvePort(action.port, ctx.container);
  const host = (action.host as string) || ctx.podIp || '127.0.0.1';
  const path = (action.path as string) || '/';
  const url = `http://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
  if (port === undefined) return Promise.resolve({ ok: false, message: `unknown port ${String(action.port)}` });
  if (action.scheme === 'HTTPS')
    return Promise.resolve({ ok: false, message: 'HTTPS probes are not supported by this node' });
  const headers: Record<string, string> = { 'User-Agent': userAgent(ctx.purpose), Accept: '*/*' };
  for (const h of (action.httpHeaders as { name: string; value: string }[] | undefined) ?? [])
    headers[h.name] = h.value;
  return new Promise((resolve) => {
    // Lenient parsing, as Go's client is: small servers (busybox httpd CGI) end header lines with a bare LF.
    const req = request(
      url,
      { headers, timeout: ctx.timeoutMs, signal: ctx.signal, insecureHTTPParser: true },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < PROBE_MAX_BODY_BYTES) body += chunk;
        });
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (ctx.purpose === 'lifecycle' || (code >= 200 && code < 400))
            resolve({ ok: true, message: body.slice(0, PROBE_MAX_BODY_BYTES) });
          else resolve({ ok: false, message: `HTTP probe failed with statuscode: ${code}` });
        });
        res.on('error', (err) => resolve({ ok: false, message: `Get "${url}": ${err.message}` }));
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)')),
    );
    req.on('error', (err) => resolve({ ok: false, message: `Get "${url}": ${goNetError(err, host, port)}` }));
    req.end();
  });
}

function goNetError(err: Error & { code?: string }, host: string, port: number): string {
  if (err.code === 'ECONNREFUSED') return `dial tcp ${host}:${port}: connect: connection refused`;
  if (err.code === 'EHOSTUNREACH') return `dial tcp ${host}:${port}: connect: no route to host`;
  return err.message;
}

function tcpSocket(action: Record<string, unknown>, ctx: HandlerContext): Promise<Outcome> {
  const port = resolvePort(action.port, ctx.container);
  const host = (action.host as string) || ctx.podIp || '127.0.0.1';
  if (port === undefined) return Promise.resolve({ ok: false, message: `unknown port ${String(action.port)}` });
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: ctx.timeoutMs, signal: ctx.signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.once('error', (err) => resolve({ ok: false, message: goNetError(err, host, port) }));
  });
}

/** Collects a stream's text up to a limit. */
function collector(limit: number): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      if (text.length < limit) text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text.slice(0, limit) };
}

async function exec(action: Record<string, unknown>, ctx: HandlerContext): Promise<Outcome> {
  const command = (action.command as string[] | undefined) ?? [];
  if (command.length === 0) return { ok: false, message: 'exec: no command' };
  const out = collector(PROBE_MAX_BODY_BYTES);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<'timeout' | 'aborted'>((resolve) => {
    if (ctx.timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), ctx.timeoutMs);
    onAbort = () => resolve('aborted');
    if (ctx.signal?.aborted) onAbort();
    else ctx.signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([
      ctx.runtime.exec(ctx.containerId, command, { stdout: out.stream, stderr: out.stream }),
      stopped,
    ]);
    if (result === 'timeout') return { ok: false, message: `command ${JSON.stringify(command.join(' '))} timed out` };
    if (result === 'aborted') return { ok: false, message: 'context canceled' };
    return { ok: result.exitCode === 0, message: out.text() };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  } finally {
    clearTimeout(timer);
    if (onAbort) ctx.signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs a probe's or hook's handler (whichever of httpGet, tcpSocket, exec, sleep it sets). */
export async function runHandler(handler: Record<string, unknown>, ctx: HandlerContext): Promise<Outcome> {
  if (handler.httpGet) return httpGet(handler.httpGet as Record<string, unknown>, ctx);
  if (handler.tcpSocket) return tcpSocket(handler.tcpSocket as Record<string, unknown>, ctx);
  if (handler.exec) return exec(handler.exec as Record<string, unknown>, ctx);
  if (handler.sleep) {
    const seconds = Number((handler.sleep as { seconds?: number }).seconds ?? 0);
    const ms = Math.min(seconds * 1000, ctx.timeoutMs ?? Number.POSITIVE_INFINITY);
    const slept = await sleep(ms, undefined, { signal: ctx.signal }).then(
      () => true,
      () => false,
    );
    return slept
      ? { ok: true, message: '' }
      : { ok: false, message: 'container terminated before sleep hook finished' };
  }
  if (handler.grpc) return { ok: false, message: 'gRPC probes are not supported by this node' };
  return { ok: false, message: 'no handler set' };
}
