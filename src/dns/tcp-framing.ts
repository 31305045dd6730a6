// DNS over TCP frames each message with a two-byte length (RFC 1035 4.2.2);
// a connection may carry many queries back to back (RFC 7766 pipelining).

export class TcpFramer {
  #buffered: Buffer = Buffer.alloc(0);

  /** Adds received bytes; returns the complete messages they finish, in order. */
  push(chunk: Buffer): Buffer[] {
    let data = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
    const out: Buffer[] = [];
    while (data.length >= 2) {
      const len = data.readUInt16BE(0);
      if (data.length < 2 + len) break;
      out.push(data.subarray(2, 2 + len));
      data = data.subarray(2 + len);
    }
    this.#buffered = data;
    return out;
  }

  /** Bytes of an unfinished message held back. */
  get pending(): number {
    return this.#buffered.length;
  }
}

/** A message with its two-byte length prefix. */
export function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}
