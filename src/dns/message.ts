// DNS messages on the wire. Replies are assembled once into a template
// (header with ID 0, the question, the records) and reused: answering is a
// copy, the ID and the client's own question bytes (its letter case) written
// over the template, an OPT record when the client sent one, and a cut at a
// record boundary when the reply is over the client's size. Record data is
// encoded by dns-packet; owner names are compressed here (dns-packet does not
// compress), which keeps headless answers within 512 bytes as CoreDNS's are.
import packet, { type Answer } from 'dns-packet';
import type { Query } from './query.ts';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, CD: 0x0010 } as const;
/** Header flags a reply copies from its query. */
const ECHOED_FLAGS = FLAG.RD | FLAG.CD;
/** Classic DNS over UDP without EDNS: replies over this are truncated (RFC 1035). */
export const CLASSIC_UDP_SIZE = 512;
/** Our EDNS UDP payload ceiling: DNS Flag Day 2020's 1232 bytes fit a 1280-byte IPv6 MTU, so no IP fragments. */
export const MAX_UDP_SIZE = 1232;
/** A DNS message over TCP is at most this long (16-bit length prefix). */
export const MAX_TCP_SIZE = 65535;
/** Bytes of our OPT record (root name, no options). */
export const OPT_LENGTH = 11;
const TYPE_OPT = 41;
const CLASS_IN = 1;

type RdataCodec = { encode(data: unknown, buf: Buffer, offset: number): Buffer; encodingLength(data: unknown): number };
const rdata = (packet as unknown as { record(type: string): RdataCodec }).record;

/** A reply template: everything but the ID, the echoed flags and OPT. */
export type Encoded = {
  buf: Buffer;
  /** End of the question section. */
  qEnd: number;
  /** Absolute end offset of each answer record (truncation cuts after one of them). */
  answerEnds: number[];
  /** End of the authority section (dropping the additional section cuts here). */
  authorityEnd: number;
  ancount: number;
  nscount: number;
  arcount: number;
};

export type ReplySpec = { flags: number; rcode: number; answer: Answer[]; authority?: Answer[]; additional?: Answer[] };

/** Scratch space for assembling templates (they are copied out at the end). */
const scratch = Buffer.alloc(MAX_TCP_SIZE);

/** Builds a template for `question` (the wire qname, type and class, as bytes). */
export function encodeReply(question: Buffer, spec: ReplySpec): Encoded {
  const buf = scratch;
  buf.fill(0, 0, 12);
  buf.writeUInt16BE(FLAG.QR | spec.flags | spec.rcode, 2);
  buf.writeUInt16BE(1, 4);
  question.copy(buf, 12);
  let offset = 12 + question.length;
  const qEnd = offset;
  const suffixes = new Map<string, number>();
  registerName(question, 0, 12, suffixes);
  const answerEnds: number[] = [];
  const writeSection = (records: Answer[] | undefined, ends?: number[]): number => {
    let count = 0;
    for (const rr of records ?? []) {
      const end = writeRecord(buf, offset, rr, suffixes);
      if (end < 0) break;
      offset = end;
      count++;
      ends?.push(offset);
    }
    return count;
  };
  const ancount = writeSection(spec.answer, answerEnds);
  const nscount = writeSection(spec.authority);
  const authorityEnd = offset;
  const arcount = writeSection(spec.additional);
  buf.writeUInt16BE(ancount, 6);
  buf.writeUInt16BE(nscount, 8);
  buf.writeUInt16BE(arcount, 10);
  return { buf: Buffer.from(buf.subarray(0, offset)), qEnd, answerEnds, authorityEnd, ancount, nscount, arcount };
}

/** Remembers where each suffix of the wire name at `at` (within `src`, placed at `base` in the message) starts. */
function registerName(src: Buffer, at: number, base: number, suffixes: Map<string, number>): void {
  let i = at;
  while (src[i] !== 0 && i < src.length) {
    const pos = base + (i - at);
    const key = src.toString('latin1', i, nameEnd(src, i)).toLowerCase();
    if (pos < 0x3fff && !suffixes.has(key)) suffixes.set(key, pos);
    i += src[i] + 1;
  }
}

function nameEnd(src: Buffer, at: number): number {
  let i = at;
  while (src[i] !== 0) i += src[i] + 1;
  return i + 1;
}

const TYPE_NUMBERS: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33 };

/** Writes one record with a compressed owner name; returns the new offset, or -1 when it does not fit. */
function writeRecord(buf: Buffer, start: number, rr: Answer, suffixes: Map<string, number>): number {
  const labels = rr.name.toLowerCase().split('.').filter(Boolean);
  const data = (rr as { data: unknown }).data;
  const codec = rdata(rr.type);
  if (start + 255 + 10 + codec.encodingLength(data) > buf.length) return -1;
  let offset = start;
  let pointer = -1;
  let i = 0;
  for (; i < labels.length; i++) {
    const suffix = labels.slice(i).map((l) => String.fromCharCode(l.length) + l).join('') + '\x00';
    const at = suffixes.get(suffix);
    if (at !== undefined) {
      pointer = at;
      break;
    }
    if (offset < 0x3fff) suffixes.set(suffix, offset);
    buf[offset++] = labels[i].length;
    offset += buf.write(labels[i], offset, 'latin1');
  }
  if (pointer >= 0) {
    buf.writeUInt16BE(0xc000 | pointer, offset);
    offset += 2;
  } else buf[offset++] = 0;
  buf.writeUInt16BE(TYPE_NUMBERS[rr.type] ?? 0, offset);
  buf.writeUInt16BE(CLASS_IN, offset + 2);
  buf.writeUInt32BE((rr as { ttl?: number }).ttl ?? 0, offset + 4);
  codec.encode(data, buf, offset + 8);
  return offset + 8 + (codec.encode as unknown as { bytes: number }).bytes;
}

export function writeOpt(out: Buffer, at: number, query: Query, extendedRcode: number): void {
  out[at] = 0;
  out.writeUInt16BE(TYPE_OPT, at + 1);
  out.writeUInt16BE(MAX_UDP_SIZE, at + 3);
  out[at + 5] = extendedRcode;
  out[at + 6] = 0;
  out.writeUInt16BE(query.dnssecOk ? 0x8000 : 0, at + 7);
  out.writeUInt16BE(0, at + 9);
}

/** The client's question bytes (its letter case) into a reply: a byte loop beats Buffer#copy's checks for ~40 bytes. */
function copyQuestion(query: Query, out: Buffer): void {
  const src = query.packet;
  for (let i = 12; i < query.qEnd; i++) out[i] = src[i];
}

/** The reply to `query` from a template, within `limit` bytes (truncating at record boundaries). */
export function finishReply(enc: Encoded, query: Query, limit: number): Buffer {
  const opt = query.edns ? OPT_LENGTH : 0;
  let end = enc.buf.length;
  let ancount = enc.ancount;
  let nscount = enc.nscount;
  let arcount = enc.arcount;
  let truncated = false;
  if (end + opt > limit) {
    // Additional records are optional: drop them first, without TC (RFC 2181 9).
    end = enc.authorityEnd;
    arcount = 0;
    if (end + opt > limit) {
      truncated = true;
      nscount = 0;
      ancount = 0;
      end = enc.qEnd;
      for (const answerEnd of enc.answerEnds) {
        if (answerEnd + opt > limit) break;
        end = answerEnd;
        ancount++;
      }
    }
  }
  const out = Buffer.allocUnsafe(end + opt);
  if (end === enc.buf.length) out.set(enc.buf);
  else enc.buf.copy(out, 0, 0, end);
  out.writeUInt16BE(query.id, 0);
  let flags = enc.buf.readUInt16BE(2) | (query.flags & ECHOED_FLAGS);
  if (truncated) flags |= FLAG.TC;
  out.writeUInt16BE(flags, 2);
  copyQuestion(query, out);
  out.writeUInt16BE(ancount, 6);
  out.writeUInt16BE(nscount, 8);
  out.writeUInt16BE(arcount + (opt ? 1 : 0), 10);
  if (opt) writeOpt(out, end, query, 0);
  return out;
}

/**
 * A reply with no answers, the question echoed, and optionally one authority
 * record given as its bytes after the owner name (`tail`), the owner being a
 * pointer to `ownerAt` within the question. This is the precomputed NXDOMAIN
 * and NODATA path: no encoding at all, one copy of the question.
 */
export function bareReply(query: Query, options: { flags: number; rcode: number; tail?: Buffer; ownerAt?: number }): Buffer {
  const opt = query.edns ? OPT_LENGTH : 0;
  const qEnd = query.qEnd;
  const authority = options.tail ? 2 + options.tail.length : 0;
  const out = Buffer.allocUnsafe(qEnd + authority + opt);
  out.writeUInt16BE(query.id, 0);
  // Extended rcodes (BADVERS = 16) travel in OPT's upper bits; the header keeps the low four.
  out.writeUInt16BE(FLAG.QR | options.flags | (query.flags & ECHOED_FLAGS) | (options.rcode & 0xf), 2);
  out.writeUInt16BE(qEnd > 12 ? 1 : 0, 4);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(authority ? 1 : 0, 8);
  out.writeUInt16BE(opt ? 1 : 0, 10);
  copyQuestion(query, out);
  let at = qEnd;
  if (options.tail) {
    out.writeUInt16BE(0xc000 | (options.ownerAt ?? 12), at);
    options.tail.copy(out, at + 2);
    at += authority;
  }
  if (opt) writeOpt(out, at, query, options.rcode >> 4);
  return out;
}

/** An SOA record's bytes after its owner name (type, class, TTL, rdata), for bareReply. */
export function soaTail(soa: { ttl: number; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }): Buffer {
  const codec = rdata('SOA');
  const body = Buffer.alloc(8 + codec.encodingLength(soa));
  body.writeUInt16BE(6, 0);
  body.writeUInt16BE(CLASS_IN, 2);
  body.writeUInt32BE(soa.ttl, 4);
  codec.encode(soa, body, 8);
  return body;
}
