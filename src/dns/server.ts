// The DNS server: UDP and TCP listeners answering from the cluster index,
// forwarding other names upstream (or REFUSED when forwarding is off).
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP, createServer, type Server } from 'node:net';
import type { Logger } from '../lib/log.ts';
import { bareReply, CLASSIC_UDP_SIZE, MAX_TCP_SIZE, MAX_UDP_SIZE, RCODE } from './message.ts';
import { isRejection, parseQuery, type Query } from './query.ts';
import { ClusterResolver } from './resolve.ts';
import { frame, TcpFramer } from './tcp-framing.ts';
import type { UpstreamResolver } from './upstream.ts';
import type { ClusterDnsIndex } from './zone-index.ts';

/** An idle TCP client is closed after this long (RFC 7766 suggests seconds, not minutes). */
const TCP_IDLE_MS = 10_000;
/** EDNS version we speak; higher versions get BADVERS (RFC 6891). */
const EDNS_VERSION = 0;
const RCODE_BADVERS = 16;
/**
 * UDP socket buffers: a burst of queries (every pod of a Deployment starting at
 * once, or dnsperf's 100 in flight) waits in the kernel rather than being
 * dropped while the thread is busy; 4 MiB is ~15k queries. The kernel caps it
 * at net.core.rmem_max / wmem_max.
 */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

export type ListenAddress = { address: string; port: number };

export type DnsServerOptions = {
  index: ClusterDnsIndex;
  listen: ListenAddress[];
  /** Forwarder for names outside the cluster; without one they are REFUSED. */
  upstream?: UpstreamResolver;
  /** Until this resolves, cluster names answer SERVFAIL (CoreDNS does the same before its informers sync). */
  synced?: Promise<unknown>;
  /** Bind UDP with SO_REUSEPORT, so that sockets in other threads share the port (the kernel spreads clients over them). */
  reusePort?: boolean;
  /** UDP only (a replica thread: TCP stays with the primary); `listen` must then give real ports. */
  udpOnly?: boolean;
  signal: AbortSignal;
  log?: Logger;
};

export type DnsServer = {
  /** The addresses bound (port 0 in `listen` becomes the real port; UDP and TCP share it). */
  addresses: ListenAddress[];
  /** Answers one query message (what the sockets call); undefined means "send nothing". */
  handle(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | Promise<Buffer> | undefined;
  closed: Promise<void>;
};

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const { index, upstream, signal, log } = options;
  const resolver = new ClusterResolver(index, { chaseExternal: upstream !== undefined });
  let synced = options.synced === undefined;
  void options.synced?.then(() => {
    synced = true;
  });

  const handle = (msg: Buffer, transport: 'udp' | 'tcp'): Buffer | Promise<Buffer> | undefined => {
    const q = parseQuery(msg);
    if (isRejection(q)) return q.drop ? undefined : ClusterResolver.error(q.query, q.rcode);
    if (q.edns && q.ednsVersion > EDNS_VERSION) return bareReply(q, { flags: 0, rcode: RCODE_BADVERS });
    const limit = transport === 'tcp' ? MAX_TCP_SIZE : q.edns ? Math.min(q.udpSize, MAX_UDP_SIZE) : CLASSIC_UDP_SIZE;
    if (!synced && resolver.zoneOffset(q.key) >= 0) return ClusterResolver.error(q, RCODE.SERVFAIL);
    const answer = resolver.answer(q, limit);
    if (answer && 'target' in answer) return chase(q, answer.cname, answer.target, limit);
    if (answer) return answer;
    if (!upstream) return ClusterResolver.error(q, RCODE.REFUSED);
    return upstream.resolve(q, limit);
  };

  const chase = async (q: Query, cname: Parameters<ClusterResolver['chasedReply']>[1], target: string, limit: number) => {
    const answers = upstream ? await upstream.lookup(target, q.qtype) : [];
    return resolver.chasedReply(q, cname, answers, limit);
  };

  const addresses: ListenAddress[] = [];
  const closers: (() => Promise<void>)[] = [];
  for (const listen of options.listen) {
    const tcp = options.udpOnly ? undefined : await listenTcp(listen, handle, log);
    const port = tcp ? (tcp.address() as { port: number }).port : listen.port;
    const udp = await listenUdp({ address: listen.address, port }, { handle, reusePort: options.reusePort === true, log });
    addresses.push({ address: listen.address, port });
    closers.push(() => new Promise((resolve) => udp.close(() => resolve())));
    if (tcp) closers.push(() => new Promise((resolve) => tcp.close(() => resolve())));
    log?.debug('dns listening', { address: listen.address, port, tcp: tcp !== undefined });
  }

  const closed = new Promise<void>((resolve) => {
    const stop = () => {
      upstream?.close();
      void Promise.all(closers.map((c) => c())).then(() => resolve());
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  return { addresses, handle, closed };
}

type Handler = DnsServer['handle'];

/**
 * dgram resolves the destination of every send through its lookup function
 * (dns.lookup by default: an isIP check and a next-tick callback per reply).
 * Once bound, our destinations are the clients' addresses as the kernel gave
 * them, always IPs of the socket's family: answer at once.
 */
function replyLookup(family: 4 | 6): { lookup: SocketOptions['lookup']; bound(): void } {
  let bound = false;
  return {
    lookup: (address, options, callback) => {
      if (bound) callback(null, address, family);
      else lookup(address, options, callback);
    },
    bound: () => {
      bound = true;
    },
  };
}

function listenUdp(listen: ListenAddress, options: { handle: Handler; reusePort: boolean; log?: Logger }): Promise<Socket> {
  const { handle, log } = options;
  const family = isIP(listen.address) === 6 ? 6 : 4;
  const resolver = replyLookup(family);
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', reusePort: options.reusePort, lookup: resolver.lookup });
  socket.on('message', (msg, rinfo) => {
    let reply: ReturnType<Handler>;
    try {
      reply = handle(msg, 'udp');
    } catch (err) {
      log?.warn('dns query failed', { err });
      return;
    }
    if (reply instanceof Promise) {
      reply.then(
        (buf) => socket.send(buf, rinfo.port, rinfo.address),
        (err) => log?.warn('dns query failed', { err }),
      );
    } else if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(listen.port, listen.address, () => {
      socket.off('error', reject);
      socket.on('error', (err) => log?.warn('dns udp socket error', { err: err.message }));
      resolver.bound();
      try {
        socket.setRecvBufferSize(UDP_BUFFER_BYTES);
        socket.setSendBufferSize(UDP_BUFFER_BYTES);
      } catch (err) {
        log?.debug('dns udp buffer size not set', { err: (err as Error).message });
      }
      resolve(socket);
    });
  });
}

function listenTcp(listen: ListenAddress, handle: Handler, log?: Logger): Promise<Server> {
  const server = createServer((conn) => {
    const framer = new TcpFramer();
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk) => {
      for (const msg of framer.push(chunk)) {
        let reply: ReturnType<Handler>;
        try {
          reply = handle(msg, 'tcp');
        } catch (err) {
          log?.warn('dns query failed', { err });
          continue;
        }
        if (reply instanceof Promise) {
          reply.then(
            (buf) => {
              if (!conn.destroyed) conn.write(frame(buf));
            },
            (err) => log?.warn('dns query failed', { err }),
          );
        } else if (reply) conn.write(frame(reply));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listen.address, port: listen.port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
