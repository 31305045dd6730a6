// HTTP upgrades (WebSocket, SPDY) go through the same request handler as
// everything else: a ServerResponse bound to the raw socket carries errors as
// Status objects, and connect handlers take the socket over.
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { Duplex } from 'node:stream';

const heads = new WeakMap<IncomingMessage, Buffer>();
const upgrades = new WeakSet<IncomingMessage>();

/** True for a request that arrived as an upgrade; its socket is the handler's to take. */
export function isUpgrade(req: IncomingMessage): boolean {
  return upgrades.has(req);
}

/** Bytes the client sent after the upgrade request's headers (usually none). */
export function upgradeHead(req: IncomingMessage): Buffer {
  return heads.get(req) ?? Buffer.alloc(0);
}

/** Routes `server`'s upgrade requests to `handler` as ordinary requests. */
export function serveUpgrades(server: Server, handler: (req: IncomingMessage, res: ServerResponse) => void): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades.add(req);
    heads.set(req, head);
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as never);
    // An answer without an upgrade (an error Status) ends the connection.
    res.on('finish', () => socket.end());
    handler(req, res);
  });
}
