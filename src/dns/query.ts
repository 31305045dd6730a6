// Reads a query straight from its packet: header, the one question, and the
// EDNS OPT record if any. The name becomes a lower-case latin1 key in wire
// form with a single slice (see names.ts); nothing else is allocated.

export type Query = {
  packet: Buffer;
  id: number;
  /** The raw header flags word. */
  flags: number;
  /** End of the query name (after its zero byte). */
  qnameEnd: number;
  /** End of the question section. */
  qEnd: number;
  qtype: number;
  qclass: number;
  /** The name in wire form, lower-cased, as a latin1 string. */
  key: string;
  edns: boolean;
  /** The client's EDNS UDP payload size (512 without EDNS). */
  udpSize: number;
  dnssecOk: boolean;
  ednsVersion: number;
};

/** Why a packet is not a query we answer normally: drop it, or reply with this rcode (header and question only). */
export type Rejection = { drop: true } | { drop: false; rcode: number; query: Query };

const MAX_NAME_LENGTH = 255;
const TYPE_OPT = 41;
const OPCODE_MASK = 0x7800;

/** Skips a (possibly compressed) name; returns the offset after it, or -1 if malformed. */
export function skipName(buf: Buffer, at: number): number {
  let i = at;
  while (i < buf.length) {
    const len = buf[i];
    if (len === 0) return i + 1;
    if ((len & 0xc0) === 0xc0) return i + 2 <= buf.length ? i + 2 : -1;
    if (len > 63) return -1;
    i += len + 1;
  }
  return -1;
}

export function parseQuery(packet: Buffer): Query | Rejection {
  if (packet.length < 12) return { drop: true };
  const flags = packet.readUInt16BE(2);
  if (flags & 0x8000) return { drop: true }; // a response, not a query
  const query: Query = {
    packet,
    id: packet.readUInt16BE(0),
    flags,
    qnameEnd: 12,
    qEnd: 12,
    qtype: 0,
    qclass: 0,
    key: '',
    edns: false,
    udpSize: 512,
    dnssecOk: false,
    ednsVersion: 0,
  };
  const qdcount = packet.readUInt16BE(4);
  if ((flags & OPCODE_MASK) !== 0) return { drop: false, rcode: 4, query };
  if (qdcount !== 1) return { drop: false, rcode: 1, query };
  let i = 12;
  let upper = false;
  for (;;) {
    if (i >= packet.length) return { drop: false, rcode: 1, query };
    const len = packet[i];
    if (len === 0) break;
    if (len > 63 || i + 1 + len > packet.length) return { drop: false, rcode: 1, query };
    for (let j = i + 1; j <= i + len; j++) {
      const c = packet[j];
      if (c >= 65 && c <= 90) upper = true;
    }
    i += len + 1;
  }
  const qnameEnd = i + 1;
  if (qnameEnd - 12 > MAX_NAME_LENGTH || qnameEnd + 4 > packet.length) return { drop: false, rcode: 1, query };
  query.qnameEnd = qnameEnd;
  query.qEnd = qnameEnd + 4;
  query.qtype = packet.readUInt16BE(qnameEnd);
  query.qclass = packet.readUInt16BE(qnameEnd + 2);
  const raw = packet.toString('latin1', 12, qnameEnd);
  query.key = upper ? raw.toLowerCase() : raw;
  const records = packet.readUInt16BE(6) + packet.readUInt16BE(8) + packet.readUInt16BE(10);
  let at = query.qEnd;
  for (let r = 0; r < records; r++) {
    const nameEnd = skipName(packet, at);
    if (nameEnd < 0 || nameEnd + 10 > packet.length) return { drop: false, rcode: 1, query };
    const type = packet.readUInt16BE(nameEnd);
    const rdlength = packet.readUInt16BE(nameEnd + 8);
    if (type === TYPE_OPT) {
      query.edns = true;
      query.udpSize = Math.max(512, packet.readUInt16BE(nameEnd + 2));
      query.ednsVersion = packet[nameEnd + 5];
      query.dnssecOk = (packet.readUInt16BE(nameEnd + 6) & 0x8000) !== 0;
    }
    at = nameEnd + 10 + rdlength;
    if (at > packet.length) return { drop: false, rcode: 1, query };
  }
  return query;
}

export function isRejection(q: Query | Rejection): q is Rejection {
  return 'drop' in q;
}
