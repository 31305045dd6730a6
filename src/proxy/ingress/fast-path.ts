// The ingress's fast path: plain HTTP/1.1 requests proxied over raw sockets,
// heads parsed and rewritten here and bodies passed through verbatim with
// their framing tracked, upstream connections pooled (what HAProxy does). It
// costs a fraction of node:http's per-request work. A connection whose next
// request is anything else (an upgrade, Expect, HTTP/1.0, odd framing, a head
// too large or malformed) is handed, with the bytes read so far, to the
// node:http server (proxy.ts), which serves or rejects it and keeps it.
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/log.ts';
import { downstreamResponseHeaders, plainIp, upstreamRequestHeaders } from './headers.ts';
import { BodyTracker, findResponseHeadEnd, MAX_HEAD_BYTES, parseRequestHead, parseResponseHead, type RequestHead } from './http1.ts';
import { errorBody, statusText, type Target, UPSTREAM_IDLE_TIMEOUT_MS } from './proxy.ts';
import { setUpstreamTimeout, type Upstream, type UpstreamPool } from './upstream-pool.ts';

const HEAD_END = Buffer.from('\r\n\r\n');
/** Bodies up to this size go out in the same buffer as their head (one write instead of a writev of two). */
const COALESCE_MAX_BYTES = 16 * 1024;
/** Idle client connections close after this (nginx's keepalive_timeout is 75 s; also bounds a slow head). */
export const CLIENT_IDLE_TIMEOUT_MS = 75_000;

export type FastPathOptions = {
  pick(host: string | undefined, url: string | undefined): Target;
  pool: UpstreamPool;
  proto: 'http' | 'https';
  /** Takes over a connection the fast path will not serve; `pending` holds bytes already read from it. */
  handOff(socket: Socket, pending: Buffer | undefined): void;
  upstreamTimeoutMs?: number;
  log?: Logger;
};

function errorResponse(status: number, close: boolean): string {
  const body = errorBody(status);
  return `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${body}`;
}

function headText(first: string, fields: string[], extra: string): string {
  let text = `${first}\r\n`;
  for (let i = 0; i < fields.length; i += 2) text += `${fields[i]}: ${fields[i + 1]}\r\n`;
  return `${text}${extra}\r\n`;
}

class UpstreamFailure extends Error {}

/** Serves one client connection (plain or TLS) until it closes or is handed off. */
export function serveConnection(socket: Socket, options: FastPathOptions): void {
  const { pick, pool, proto, log } = options;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? UPSTREAM_IDLE_TIMEOUT_MS;
  const info = { clientIp: plainIp(socket.remoteAddress), proto, port: socket.localPort ?? 0 };
  let pending: Buffer | undefined;
  let exchange: Exchange | undefined;
  let closing = false;

  type Exchange = {
    head: RequestHead;
    text: string;
    body: BodyTracker;
    up: Upstream | undefined;
    retried: boolean;
    /** Response bytes seen so far while its head is incomplete. */
    responseHead: Buffer | undefined;
    response: BodyTracker | undefined;
    /** Whether anything of the response went to the client. */
    answered: boolean;
    keepAliveHint: number | undefined;
    upstreamKeepAlive: boolean;
    closeClient: boolean;
  };

  const onTimeout = () => socket.destroy();
  const onError = () => {};
  const onClose = () => {
    if (exchange?.up) exchange.up.socket.destroy();
    exchange = undefined;
  };
  const onDrain = () => exchange?.up?.socket.resume();
  socket.setTimeout(CLIENT_IDLE_TIMEOUT_MS);
  socket.on('timeout', onTimeout);
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.on('drain', onDrain);
  socket.on('data', onData);

  function stash(chunk: Buffer): void {
    pending = pending ? Buffer.concat([pending, chunk]) : chunk;
    socket.pause();
  }

  function onData(chunk: Buffer): void {
    const ex = exchange;
    if (ex) {
      if (ex.body.done) {
        stash(chunk); // the next (pipelined) request waits for this response
        return;
      }
      const n = ex.body.take(chunk, 0);
      if (ex.body.failed) {
        fail(ex, 400);
        return;
      }
      if (ex.up && !ex.up.socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) socket.pause();
      if (n < chunk.length) stash(chunk.subarray(n));
      return;
    }
    pending = pending ? Buffer.concat([pending, chunk]) : chunk;
    next();
  }

  function handOff(): void {
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.off('error', onError);
    socket.off('close', onClose);
    socket.off('drain', onDrain);
    socket.setTimeout(0);
    socket.resume(); // node:http expects a flowing socket; the data flows on the next tick, after its listeners are on
    const buffered = pending;
    pending = undefined;
    options.handOff(socket, buffered);
  }

  /** Starts the next request in `pending`, if its head is complete. */
  function next(): void {
    if (exchange || closing || !pending) return;
    const end = pending.indexOf(HEAD_END);
    if (end < 0) {
      if (pending.length > MAX_HEAD_BYTES) handOff();
      return;
    }
    const head = end <= MAX_HEAD_BYTES ? parseRequestHead(pending.toString('latin1', 0, end)) : undefined;
    if (!head) {
      handOff();
      return;
    }
    const rest = pending.subarray(end + 4);
    pending = rest.length > 0 ? rest : undefined;
    start(head);
  }

  function start(head: RequestHead): void {
    const body = new BodyTracker(head.contentLength);
    const target = pick(head.host, head.target);
    if (target.status !== undefined) {
      // A body the proxy will not read ends the connection after the answer.
      const close = head.close || !body.done;
      socket.write(errorResponse(target.status, close));
      if (close) {
        end();
        return;
      }
      next();
      return;
    }
    const fields = upstreamRequestHeaders(head.raw, info);
    const ex: Exchange = {
      head,
      text: headText(`${head.method} ${head.target} HTTP/1.1`, fields, ''),
      body,
      up: undefined,
      retried: false,
      responseHead: undefined,
      response: undefined,
      answered: false,
      keepAliveHint: undefined,
      upstreamKeepAlive: false,
      closeClient: head.close,
    };
    exchange = ex;
    send(ex, target.endpoint);
  }

  function send(ex: Exchange, endpoint: NonNullable<Target['endpoint']>): void {
    const up = pool.acquire(endpoint);
    ex.up = up;
    up.onData = (chunk) => onResponse(ex, chunk);
    up.onClose = (err) => onUpstreamClose(ex, endpoint, err);
    up.onTimeout = () => up.socket.destroy(new UpstreamFailure('upstream timed out'));
    up.onDrain = () => socket.resume();
    setUpstreamTimeout(up, upstreamTimeoutMs);
    const initial = pending && !ex.body.done ? pending : undefined;
    if (!initial) {
      up.socket.write(ex.text, 'latin1');
    } else {
      up.socket.cork();
      up.socket.write(ex.text, 'latin1');
      const n = ex.body.take(initial, 0);
      if (ex.body.failed) {
        up.socket.uncork();
        fail(ex, 400);
        return;
      }
      up.socket.write(n === initial.length ? initial : initial.subarray(0, n));
      pending = n < initial.length ? initial.subarray(n) : undefined;
      up.socket.uncork();
    }
    if (pending) socket.pause();
  }

  function onResponse(ex: Exchange, chunk: Buffer): void {
    if (exchange !== ex) return;
    let data = chunk;
    let headOut: string | undefined;
    while (!ex.response) {
      const buf = ex.responseHead ? Buffer.concat([ex.responseHead, data]) : data;
      const end = findResponseHeadEnd(buf);
      if (!end) {
        if (buf.length > MAX_HEAD_BYTES) {
          fail(ex, 502);
          return;
        }
        ex.responseHead = buf;
        return;
      }
      ex.responseHead = undefined;
      const head = parseResponseHead(buf.toString('latin1', 0, end.head));
      data = buf.subarray(end.next);
      if (!head || head.status === 101) {
        fail(ex, 502);
        return;
      }
      if (head.status < 200) {
        socket.write(buf.subarray(0, end.next)); // interim (103 Early Hints): passed on as is
        ex.answered = true;
        continue;
      }
      const noBody = ex.head.method === 'HEAD' || head.status === 204 || head.status === 304;
      const length = noBody ? 0 : head.chunked ? -1 : head.contentLength >= 0 ? head.contentLength : -2;
      ex.response = new BodyTracker(length);
      ex.keepAliveHint = head.keepAliveTimeout;
      ex.upstreamKeepAlive = head.keepAlive && length !== -2;
      // Without a length the body ends at close; an unread request body cannot be skipped: both end the connection.
      if (length === -2 || !ex.body.done) ex.closeClient = true;
      const extra = `${head.chunked && !noBody ? 'Transfer-Encoding: chunked\r\n' : ''}${ex.closeClient ? 'Connection: close\r\n' : ''}`;
      headOut = headText(`HTTP/1.1 ${head.status} ${head.reason}`, downstreamResponseHeaders(head.raw), extra);
      ex.answered = true;
    }
    let body: Buffer | undefined;
    if (data.length > 0) {
      const n = ex.response.take(data, 0);
      if (ex.response.failed) {
        fail(ex, 502);
        return;
      }
      body = n === data.length ? data : data.subarray(0, n);
    }
    if (!write(headOut, body)) ex.up?.socket.pause();
    if (ex.response.done) finish(ex, ex.upstreamKeepAlive && ex.body.done);
  }

  /** Writes a response head and/or body bytes, small ones as one buffer: one plain write, no writev. */
  function write(head: string | undefined, body: Buffer | undefined): boolean {
    if (head === undefined) return body ? socket.write(body) : true;
    if (!body) return socket.write(head, 'latin1');
    if (body.length > COALESCE_MAX_BYTES) {
      socket.write(head, 'latin1');
      return socket.write(body);
    }
    const out = Buffer.allocUnsafe(head.length + body.length);
    out.write(head, 0, 'latin1');
    body.copy(out, head.length);
    return socket.write(out);
  }

  function onUpstreamClose(ex: Exchange, endpoint: NonNullable<Target['endpoint']>, err: Error | undefined): void {
    if (exchange !== ex) return;
    const up = ex.up;
    ex.up = undefined;
    if (ex.response?.untilClose) {
      finish(ex, false);
      return;
    }
    if (!ex.answered && !ex.retried && up?.reused && ex.head.contentLength === 0 && !(err instanceof UpstreamFailure)) {
      // A pooled connection the upstream had closed meanwhile: safe to send a bodiless request again.
      ex.retried = true;
      ex.responseHead = undefined;
      send(ex, endpoint);
      return;
    }
    log?.debug('upstream failed', { endpoint: up?.key, err: err?.message ?? 'closed early' });
    fail(ex, err instanceof UpstreamFailure ? 504 : 502);
  }

  /** The exchange failed: an error page if nothing was answered yet, else the client connection is cut. */
  function fail(ex: Exchange, status: number): void {
    ex.up?.socket.destroy();
    ex.up = undefined;
    exchange = undefined;
    if (ex.answered || status === 400) {
      if (status === 400 && !ex.answered) socket.write(errorResponse(400, true));
      socket.destroy();
      return;
    }
    socket.write(errorResponse(status, true));
    end();
  }

  function finish(ex: Exchange, reusable: boolean): void {
    const up = ex.up;
    ex.up = undefined;
    exchange = undefined;
    if (up) {
      up.socket.resume(); // it may have been paused for a slow client
      if (reusable) pool.release(up, ex.keepAliveHint);
      else up.socket.destroy();
    }
    if (ex.closeClient) {
      end();
      return;
    }
    socket.resume();
    next();
  }

  function end(): void {
    closing = true;
    pending = undefined;
    socket.end();
  }
}
