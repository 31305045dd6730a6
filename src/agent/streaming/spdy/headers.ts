// SPDY/3 header blocks: name/value pairs in one zlib stream per direction
// (preset dictionary, a sync flush after each block). Node's zlib has no
// synchronous streaming API, so: inbound, the connection's compressed bytes
// so far are inflated again and the new output taken (header blocks are a few
// dozen bytes each); outbound, blocks go as stored (uncompressed) deflate
// blocks — a valid zlib stream any SPDY peer reads.
import { constants, inflateSync } from 'node:zlib';
import { SPDY_DICTIONARY } from './dictionary.ts';

/** Compressed inbound header bytes one connection may accumulate: ~20,000 forwarded connections. */
const MAX_INBOUND_HEADER_BYTES = 1024 * 1024;

export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 4;
  const count = block.readUInt32BE(0);
  for (let i = 0; i < count; i++) {
    const nameLength = block.readUInt32BE(at);
    const name = block.subarray(at + 4, at + 4 + nameLength).toString();
    at += 4 + nameLength;
    const valueLength = block.readUInt32BE(at);
    headers[name.toLowerCase()] = block.subarray(at + 4, at + 4 + valueLength).toString();
    at += 4 + valueLength;
  }
  return headers;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

export function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** zlib header announcing the preset dictionary (FDICT) and its adler32. */
function zlibHeader(): Buffer {
  const cmf = 0x78;
  let flg = 0x20 | (2 << 6);
  flg += 31 - ((cmf * 256 + flg) % 31);
  const head = Buffer.alloc(6);
  head[0] = cmf;
  head[1] = flg;
  head.writeUInt32BE(adler32(SPDY_DICTIONARY), 2);
  return head;
}

const EMPTY_STORED_BLOCK = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/** One direction-pair of header compression state for a SPDY connection. */
export class HeaderCodec {
  #started = false;
  #inbound: Buffer = Buffer.alloc(0);
  #inflated = 0;

  /** A compressed header block to put in SYN_REPLY/HEADERS. */
  encode(headers: Record<string, string>): Buffer {
    const raw = encodeHeaderBlock(headers);
    const parts: Buffer[] = [];
    if (!this.#started) {
      parts.push(zlibHeader());
      this.#started = true;
    }
    for (let at = 0; at < raw.length || at === 0; at += 0xffff) {
      const piece = raw.subarray(at, at + 0xffff);
      const head = Buffer.alloc(5);
      head[0] = 0; // BFINAL 0, BTYPE 00 (stored)
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
      if (raw.length === 0) break;
    }
    // End with an empty stored block, as a sync flush does: Go's flate hands out a stored
    // block's bytes only once it has read the next block header, which must be in this frame.
    parts.push(EMPTY_STORED_BLOCK);
    return Buffer.concat(parts);
  }

  /** Decodes a header block from the peer (the next piece of its zlib stream). */
  decode(block: Buffer): Record<string, string> {
    this.#inbound = Buffer.concat([this.#inbound, block]);
    if (this.#inbound.length > MAX_INBOUND_HEADER_BYTES) throw new Error('too much header data on one connection');
    const all = inflateSync(this.#inbound, { dictionary: SPDY_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    const fresh = all.subarray(this.#inflated);
    this.#inflated = all.length;
    return decodeHeaderBlock(fresh);
  }
}
