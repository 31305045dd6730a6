// Kept-alive connections to endpoints for the fast path, reused last-in
// first-out so a few sockets stay hot. Each connection has one set of
// listeners for life; the exchange using it plugs its handlers in.
import { connect, type Socket } from 'node:net';
import type { Endpoint } from './backends.ts';

/** Idle connections kept per endpoint: enough for a busy backend's concurrency without hoarding sockets. */
export const MAX_IDLE_PER_ENDPOINT = 512;
/**
 * An idle connection is closed after this unless the upstream hinted less
 * (Keep-Alive: timeout=N). Equal to the in-use timeout, so an upstream without
 * a hint costs no timer changes per request.
 */
const IDLE_TIMEOUT_MS = 60_000;
/** Closing this long before the upstream's own keep-alive deadline avoids reusing a connection it is about to drop. */
const HINT_MARGIN_MS = 1_000;

export type Upstream = {
  socket: Socket;
  key: string;
  /** Used before (its first write may meet a connection the peer closed meanwhile). */
  reused: boolean;
  onData: ((chunk: Buffer) => void) | undefined;
  onClose: ((err: Error | undefined) => void) | undefined;
  onTimeout: (() => void) | undefined;
  onDrain: (() => void) | undefined;
  /** The socket's inactivity timeout now (set only when it changes: re-arming costs on every request). */
  timeoutMs: number;
};

/** Sets a connection's inactivity timeout unless it already has that one. */
export function setUpstreamTimeout(up: Upstream, ms: number): void {
  if (up.timeoutMs === ms) return;
  up.timeoutMs = ms;
  up.socket.setTimeout(ms);
}

export class UpstreamPool {
  #idle = new Map<string, Upstream[]>();

  /** An idle connection to the endpoint, or a new one (writes before it connects are buffered). */
  acquire(endpoint: Endpoint): Upstream {
    const key = `${endpoint.address}:${endpoint.port}`;
    const list = this.#idle.get(key);
    while (list && list.length > 0) {
      const up = list.pop()!;
      if (!up.socket.destroyed) {
        up.reused = true;
        return up;
      }
    }
    return this.#open(endpoint, key);
  }

  /** Back to the pool after a complete exchange; `hintSeconds` from the response's Keep-Alive header. */
  release(up: Upstream, hintSeconds: number | undefined): void {
    up.onData = up.onClose = up.onTimeout = up.onDrain = undefined;
    let list = this.#idle.get(up.key);
    if (!list) {
      list = [];
      this.#idle.set(up.key, list);
    }
    if (up.socket.destroyed || list.length >= MAX_IDLE_PER_ENDPOINT) {
      up.socket.destroy();
      return;
    }
    const idleMs = hintSeconds !== undefined ? Math.max(hintSeconds * 1000 - HINT_MARGIN_MS, 0) : IDLE_TIMEOUT_MS;
    if (idleMs === 0) {
      up.socket.destroy();
      return;
    }
    setUpstreamTimeout(up, idleMs);
    list.push(up);
  }

  destroy(): void {
    for (const list of this.#idle.values()) for (const up of list) up.socket.destroy();
    this.#idle.clear();
  }

  #open(endpoint: Endpoint, key: string): Upstream {
    const socket = connect({ host: endpoint.address, port: endpoint.port, noDelay: true });
    const up: Upstream = { socket, key, reused: false, onData: undefined, onClose: undefined, onTimeout: undefined, onDrain: undefined, timeoutMs: 0 };
    let failure: Error | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (up.onData) up.onData(chunk);
      else socket.destroy(); // bytes on an idle connection: nothing to pair them with
    });
    socket.on('drain', () => up.onDrain?.());
    socket.on('timeout', () => {
      if (up.onTimeout) up.onTimeout();
      else socket.destroy();
    });
    socket.on('error', (err) => {
      failure = err;
    });
    socket.on('close', () => {
      const list = this.#idle.get(key);
      const at = list ? list.indexOf(up) : -1;
      if (at >= 0) list!.splice(at, 1);
      up.onClose?.(failure);
    });
    return up;
  }
}
