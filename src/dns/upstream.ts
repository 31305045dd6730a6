// Forwarding of names outside the cluster to the node's resolvers, with a
// cache: positive answers for their smallest TTL, negative ones (NXDOMAIN,
// NODATA) for the SOA's negative TTL (RFC 2308), both capped; identical
// queries in flight share one upstream exchange. Truncated upstream replies
// are fetched again over TCP.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, isIP } from 'node:net';
import packet, { type Answer } from 'dns-packet';
import type { Logger } from '../lib/log.ts';
import { FLAG, MAX_UDP_SIZE, OPT_LENGTH, RCODE, writeOpt } from './message.ts';
import { type Query, skipName } from './query.ts';
import { TcpFramer } from './tcp-framing.ts';

/** How long one upstream server gets before the next is tried (glibc waits 5 s per server; we answer the client sooner). */
const UPSTREAM_TIMEOUT_MS = 2000;
/** Entries kept at most (CoreDNS's cache plugin default capacity is 9,984). */
export const CACHE_CAPACITY = 10_000;
/** Longest a positive answer is kept (CoreDNS cache: 3600 s). */
const MAX_POSITIVE_TTL = 3600;
/** Longest a negative answer is kept (CoreDNS cache: 1800 s). */
const MAX_NEGATIVE_TTL = 1800;
const TYPE_OPT = 41;
const TYPE_SOA = 6;

export type UpstreamServer = { address: string; port: number };

/** The `nameserver` lines of a resolv.conf, minus addresses we serve on ourselves (forwarding to ourselves would loop). */
export function upstreamsFromResolvConf(text: string, exclude: string[] = []): UpstreamServer[] {
  const out: UpstreamServer[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const address = m[1].replace(/%.*$/, '');
    if (!isIP(address) || exclude.includes(address)) continue;
    out.push({ address, port: 53 });
  }
  return out;
}

export function readResolvConf(path = '/etc/resolv.conf', exclude: string[] = []): UpstreamServer[] {
  try {
    return upstreamsFromResolvConf(readFileSync(path, 'utf8'), exclude);
  } catch {
    return [];
  }
}

/** A stored upstream reply: its bytes and where each record's TTL and end lie, to age TTLs and cut it to size. */
type Stored = {
  buf: Buffer;
  qEnd: number;
  /** Per record (answer, authority, additional order): end offset, TTL offset (-1 for OPT), section. */
  records: { end: number; ttlAt: number; section: 0 | 1 | 2 }[];
  storedAt: number;
  expires: number;
};

/** Walks an upstream reply's records; undefined when malformed. */
export function indexReply(buf: Buffer, now: number): Stored | undefined {
  if (buf.length < 12 || buf.readUInt16BE(4) !== 1) return undefined;
  const qnameEnd = skipName(buf, 12);
  if (qnameEnd < 0) return undefined;
  const qEnd = qnameEnd + 4;
  const counts = [buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  const records: Stored['records'] = [];
  let at = qEnd;
  let minTtl = Number.POSITIVE_INFINITY;
  let negativeTtl = -1;
  for (let section = 0 as 0 | 1 | 2; section < 3; section++) {
    for (let r = 0; r < counts[section]; r++) {
      const nameEnd = skipName(buf, at);
      if (nameEnd < 0 || nameEnd + 10 > buf.length) return undefined;
      const type = buf.readUInt16BE(nameEnd);
      const ttl = buf.readUInt32BE(nameEnd + 4);
      const end = nameEnd + 10 + buf.readUInt16BE(nameEnd + 8);
      if (end > buf.length) return undefined;
      if (type !== TYPE_OPT) {
        if (section < 2) minTtl = Math.min(minTtl, ttl);
        if (section === 1 && type === TYPE_SOA && end >= 4) negativeTtl = Math.min(ttl, buf.readUInt32BE(end - 4));
      }
      records.push({ end, ttlAt: type === TYPE_OPT ? -1 : nameEnd + 4, section });
      at = end;
    }
  }
  const rcode = buf.readUInt16BE(2) & 0xf;
  let ttl = 0;
  if (rcode === RCODE.NOERROR && counts[0] > 0) ttl = Math.min(minTtl, MAX_POSITIVE_TTL);
  else if ((rcode === RCODE.NXDOMAIN || rcode === RCODE.NOERROR) && negativeTtl >= 0) ttl = Math.min(negativeTtl, MAX_NEGATIVE_TTL);
  return { buf, qEnd, records, storedAt: now, expires: now + ttl * 1000 };
}

/** The client's reply from a stored one: its ID and question, TTLs aged, our OPT for EDNS clients, cut to `limit`. */
export function replyFromStored(stored: Stored, q: Query, limit: number, now: number): Buffer {
  const elapsed = Math.floor((now - stored.storedAt) / 1000);
  // Upstream's OPT (normally last) is replaced by ours; one in the middle stays, as cutting there could break compression.
  const last = stored.records.at(-1);
  const records = last && last.ttlAt < 0 ? stored.records.slice(0, -1) : stored.records;
  const ourOpt = q.edns && !records.some((r) => r.ttlAt < 0) ? OPT_LENGTH : 0;
  let end = stored.qEnd;
  const counts = [0, 0, 0];
  let truncated = false;
  for (const r of records) {
    if (r.end + ourOpt > limit) {
      truncated = r.section === 0 || r.section === 1;
      break;
    }
    end = r.end;
    counts[r.section]++;
  }
  const out = Buffer.allocUnsafe(end + ourOpt);
  stored.buf.copy(out, 0, 0, end);
  out.writeUInt16BE(q.id, 0);
  let flags = out.readUInt16BE(2) & ~FLAG.TC;
  if (truncated || (stored.buf.readUInt16BE(2) & FLAG.TC) !== 0) flags |= FLAG.TC;
  out.writeUInt16BE((flags & ~(FLAG.RD | FLAG.CD)) | (q.flags & (FLAG.RD | FLAG.CD)), 2);
  q.packet.copy(out, 12, 12, q.qEnd);
  out.writeUInt16BE(counts[0], 6);
  out.writeUInt16BE(counts[1], 8);
  out.writeUInt16BE(counts[2] + (ourOpt ? 1 : 0), 10);
  for (let i = 0; i < records.length && records[i].end <= end; i++) {
    const at = records[i].ttlAt;
    if (at >= 0) out.writeUInt32BE(Math.max(0, out.readUInt32BE(at) - elapsed), at);
  }
  if (ourOpt) writeOpt(out, end, q, 0);
  return out;
}

type Pending = { resolve: (buf: Buffer) => void; reject: (err: Error) => void; server: UpstreamServer; question: Buffer };

export class UpstreamResolver {
  #servers: UpstreamServer[];
  #log: Logger | undefined;
  #cache = new Map<string, Stored>();
  #inflight = new Map<string, Promise<Stored>>();
  #pending = new Map<number, Pending>();
  #sockets = new Map<4 | 6, Socket>();
  #closed = false;

  constructor(options: { servers: UpstreamServer[]; log?: Logger }) {
    this.#servers = options.servers;
    this.#log = options.log;
  }

  get servers(): UpstreamServer[] {
    return this.#servers;
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  /** The reply to a client's query, from the cache or upstream; SERVFAIL when no server answers. */
  async resolve(q: Query, limit: number): Promise<Buffer> {
    const question = Buffer.from(q.packet.subarray(12, q.qEnd));
    question.write(q.key, 0, 'latin1');
    const stored = await this.#fetch(question);
    return replyFromStored(stored, q, limit, Date.now());
  }

  /** Answers for a name (an ExternalName's target), from the cache or upstream. */
  async lookup(name: string, qtype: number): Promise<Answer[]> {
    const encoded = packet.encode({ type: 'query', id: 0, questions: [{ name: name.toLowerCase(), type: 'A', class: 'IN' }] });
    const question = Buffer.from(encoded.subarray(12));
    question.writeUInt16BE(qtype, question.length - 4);
    try {
      const stored = await this.#fetch(question);
      const decoded = packet.decode(stored.buf);
      return (decoded.answers ?? []).filter((a) => a.type !== 'OPT');
    } catch {
      return [];
    }
  }

  async #fetch(question: Buffer): Promise<Stored> {
    const key = question.toString('latin1');
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.expires > now) {
      this.#cache.delete(key);
      this.#cache.set(key, hit); // most recently used last
      return hit;
    }
    let flight = this.#inflight.get(key);
    if (!flight) {
      flight = this.#exchange(question).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, flight);
    }
    const stored = await flight;
    if (stored.expires > stored.storedAt) {
      this.#cache.set(key, stored);
      if (this.#cache.size > CACHE_CAPACITY) this.#cache.delete(this.#cache.keys().next().value as string);
    }
    return stored;
  }

  async #exchange(question: Buffer): Promise<Stored> {
    let lastError: Error = new Error('no upstream DNS servers');
    for (const server of this.#servers) {
      try {
        let reply = await this.#udp(server, question);
        if (reply.readUInt16BE(2) & FLAG.TC) reply = await tcpExchange(server, buildQuery(0, question));
        const rcode = reply.readUInt16BE(2) & 0xf;
        if (rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED) {
          lastError = new Error(`upstream ${server.address} answered rcode ${rcode}`);
          continue;
        }
        const stored = indexReply(reply, Date.now());
        if (stored) return stored;
        lastError = new Error(`malformed reply from ${server.address}`);
      } catch (err) {
        lastError = err as Error;
      }
    }
    this.#log?.debug('upstream failed', { err: lastError.message });
    const fail = Buffer.alloc(12 + question.length);
    fail.writeUInt16BE(FLAG.QR | FLAG.RD | FLAG.RA | RCODE.SERVFAIL, 2);
    fail.writeUInt16BE(1, 4);
    question.copy(fail, 12);
    return { buf: fail, qEnd: fail.length, records: [], storedAt: Date.now(), expires: 0 };
  }

  #socket(family: 4 | 6): Socket {
    let socket = this.#sockets.get(family);
    if (!socket) {
      socket = createSocket(family === 6 ? 'udp6' : 'udp4');
      socket.on('message', (msg, rinfo) => this.#onReply(msg, rinfo.address, rinfo.port));
      socket.on('error', (err) => this.#log?.warn('upstream socket error', { err: err.message }));
      socket.unref();
      this.#sockets.set(family, socket);
    }
    return socket;
  }

  #onReply(msg: Buffer, address: string, port: number): void {
    if (msg.length < 12) return;
    const pending = this.#pending.get(msg.readUInt16BE(0));
    if (!pending || pending.server.address !== address || pending.server.port !== port) return;
    const question = pending.question;
    if (msg.length < 12 + question.length || msg.toString('latin1', 12, 12 + question.length).toLowerCase() !== question.toString('latin1').toLowerCase()) return;
    pending.resolve(msg);
  }

  #udp(server: UpstreamServer, question: Buffer): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new Error('resolver closed'));
    let id = (Math.random() * 0x10000) | 0;
    while (this.#pending.has(id)) id = (id + 1) & 0xffff;
    const query = buildQuery(id, question);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`upstream ${server.address} timed out`)), UPSTREAM_TIMEOUT_MS);
      const done = (err: Error | undefined, buf?: Buffer) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        if (err) reject(err);
        else resolve(buf as Buffer);
      };
      this.#pending.set(id, { resolve: (buf) => done(undefined, buf), reject: (err) => done(err), server, question });
      this.#socket(isIP(server.address) === 6 ? 6 : 4).send(query, server.port, server.address, (err) => {
        if (err) done(err);
      });
    });
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(new Error('resolver closed'));
    for (const s of this.#sockets.values()) s.close();
    this.#sockets.clear();
  }
}

/** A recursive query for `question` with EDNS (our UDP size, no DNSSEC). */
function buildQuery(id: number, question: Buffer): Buffer {
  const out = Buffer.alloc(12 + question.length + 11);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(FLAG.RD, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  question.copy(out, 12);
  const at = 12 + question.length;
  out.writeUInt16BE(TYPE_OPT, at + 1);
  out.writeUInt16BE(MAX_UDP_SIZE, at + 3);
  return out;
}

function tcpExchange(server: UpstreamServer, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.address, port: server.port });
    const framer = new TcpFramer();
    const timer = setTimeout(() => socket.destroy(new Error(`upstream ${server.address} timed out over TCP`)), UPSTREAM_TIMEOUT_MS);
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      socket.end(Buffer.concat([len, query]));
    });
    socket.on('data', (chunk) => {
      const [msg] = framer.push(chunk);
      if (msg) {
        clearTimeout(timer);
        socket.destroy();
        resolve(msg);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`upstream ${server.address} closed the TCP connection`));
    });
  });
}
