// The server half of a SPDY/3.1 session, as much of it as Kubernetes'
// port-forward needs (kubectl speaks it over a WebSocket tunnel, or over a raw
// HTTP upgrade): streams opened by the client with compressed header blocks,
// data frames with FIN, RST_STREAM, PING echo and GOAWAY. Flow control is not
// enforced: Go's spdystream, the only peer, neither sends nor honours windows.
import { PassThrough } from 'node:stream';
import { HeaderCodec } from './headers.ts';

const VERSION = 3;
const TYPE = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;
const FLAG_FIN = 0x01;
const HEADER_BYTES = 8;
/** Data frames are cut at this size so one busy stream does not delay the others' frames for long. */
const MAX_DATA_FRAME = 32 * 1024;
/** A frame larger than this is a protocol error (spdystream never sends more than 16 MiB minus one). */
const MAX_FRAME = 0xffffff;
/** RST_STREAM status codes used here (SPDY/3 section 2.6.3). */
export const RST = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6 } as const;

export type Transport = { write(data: Buffer): void; close(): void };

export type SpdyStream = {
  id: number;
  /** Header names lower-case; repeated values joined by NUL (as SPDY sends them). */
  headers: Record<string, string>;
  /** Data the client sends; ends at its FIN, is destroyed by a reset. */
  incoming: PassThrough;
  write(data: Buffer): void;
  /** Half-closes our side (FIN). */
  end(): void;
  reset(status?: number): void;
};

type StreamState = { stream: SpdyStream; localClosed: boolean };

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

export function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt16BE(0x8000 | VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | body.length, 4);
  return Buffer.concat([head, body]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

export class SpdySession {
  #transport: Transport;
  #onStream: (stream: SpdyStream) => void;
  #buffer: Buffer = Buffer.alloc(0);
  #streams = new Map<number, StreamState>();
  #headers = new HeaderCodec();
  #lastStreamId = 0;
  #closed = false;

  constructor(transport: Transport, onStream: (stream: SpdyStream) => void) {
    this.#transport = transport;
    this.#onStream = onStream;
  }

  /** Feeds bytes from the client (any chunking). */
  receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (!this.#closed && this.#buffer.length >= HEADER_BYTES) {
      const length = this.#buffer.readUInt32BE(4) & 0xffffff;
      if (length > MAX_FRAME) {
        this.close();
        return;
      }
      if (this.#buffer.length < HEADER_BYTES + length) return;
      const frame = this.#buffer.subarray(0, HEADER_BYTES + length);
      this.#buffer = this.#buffer.subarray(HEADER_BYTES + length);
      this.#handle(frame);
    }
  }

  /** Ends the session: GOAWAY, every stream destroyed, transport closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#transport.write(controlFrame(TYPE.goAway, 0, Buffer.concat([u32(this.#lastStreamId), u32(0)])));
    } catch {
      // The transport may already be gone.
    }
    for (const { stream } of this.#streams.values()) stream.incoming.destroy();
    this.#streams.clear();
    this.#transport.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #handle(frame: Buffer): void {
    const flags = frame[4];
    const body = frame.subarray(HEADER_BYTES);
    if ((frame[0] & 0x80) === 0) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const state = this.#streams.get(id);
      if (!state) return;
      if (body.length) state.stream.incoming.write(Buffer.from(body));
      if (flags & FLAG_FIN) this.#remoteFinished(id, state);
      return;
    }
    const type = frame.readUInt16BE(2);
    if (type === TYPE.synStream) {
      this.#openStream(body, flags);
      return;
    }
    if (type === TYPE.rstStream) {
      const id = body.readUInt32BE(0) & 0x7fffffff;
      const state = this.#streams.get(id);
      this.#streams.delete(id);
      state?.stream.incoming.destroy();
      return;
    }
    if (type === TYPE.ping) {
      this.#transport.write(frame);
      return;
    }
    if (type === TYPE.goAway) {
      this.close();
      return;
    }
    if (type === TYPE.headers && body.length >= 4) {
      try {
        this.#inflateBlock(body.subarray(4)); // read only to keep the shared compression context in step
      } catch {
        this.close();
      }
    }
    // SETTINGS and WINDOW_UPDATE need no answer.
  }

  #inflateBlock(block: Buffer): Record<string, string> {
    return this.#headers.decode(block);
  }

  #openStream(body: Buffer, flags: number): void {
    const id = body.readUInt32BE(0) & 0x7fffffff;
    let headers: Record<string, string>;
    try {
      headers = this.#inflateBlock(body.subarray(10));
    } catch {
      this.close(); // the shared compression context is lost: nothing more can be read
      return;
    }
    if (id === 0 || id % 2 === 0 || id <= this.#lastStreamId) {
      this.#transport.write(controlFrame(TYPE.rstStream, 0, Buffer.concat([u32(id), u32(RST.protocolError)])));
      return;
    }
    this.#lastStreamId = id;
    const state: StreamState = { stream: this.#makeStream(id, headers), localClosed: false };
    this.#streams.set(id, state);
    const reply = this.#headers.encode({});
    this.#transport.write(controlFrame(TYPE.synReply, 0, Buffer.concat([u32(id), reply])));
    if (flags & FLAG_FIN) this.#remoteFinished(id, state);
    this.#onStream(state.stream);
  }

  #makeStream(id: number, headers: Record<string, string>): SpdyStream {
    const incoming = new PassThrough();
    const send = (data: Buffer, fin: boolean) => {
      if (this.#closed) return;
      for (let at = 0; at < data.length || (fin && at === 0); at += MAX_DATA_FRAME) {
        const piece = data.subarray(at, at + MAX_DATA_FRAME);
        const last = at + MAX_DATA_FRAME >= data.length;
        this.#transport.write(dataFrame(id, fin && last ? FLAG_FIN : 0, piece));
        if (data.length === 0) break;
      }
    };
    return {
      id,
      headers,
      incoming,
      write: (data) => {
        const state = this.#streams.get(id);
        if (state && !state.localClosed && data.length) send(data, false);
      },
      end: () => {
        const state = this.#streams.get(id);
        if (!state || state.localClosed) return;
        state.localClosed = true;
        send(Buffer.alloc(0), true);
        if (incoming.writableEnded) this.#streams.delete(id);
      },
      reset: (status = RST.cancel) => {
        if (!this.#streams.delete(id) || this.#closed) return;
        this.#transport.write(controlFrame(TYPE.rstStream, 0, Buffer.concat([u32(id), u32(status)])));
        incoming.destroy();
      },
    };
  }

  #remoteFinished(id: number, state: StreamState): void {
    state.stream.incoming.end();
    if (state.localClosed) this.#streams.delete(id);
  }
}
