// The protobuf wire format, writing side: just what the OpenAPI v2 encoder
// needs. Proto3 rules: scalar fields at their zero value are left out (the
// `*If` helpers), while a present sub-message is written even when empty.
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;

/** Small writes (tags, varints, short strings) gather here before becoming one part; big enough to keep parts few. */
const SCRATCH_BYTES = 16 * 1024;
/** Strings longer than this become their own part instead of being copied into the scratch buffer. */
const INLINE_STRING_BYTES = 512;
const EMPTY = Buffer.alloc(0);

/**
 * Writes one message as a list of byte runs, concatenated once at the end. A sub-message reserves a slot for
 * its tag and length, fills it in when done, so nothing is copied twice.
 */
export class ProtoWriter {
  #parts: Uint8Array[] = [];
  #length = 0;
  #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  #used = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#length + this.#used;
  }

  /** Moves the scratch bytes written so far out as one run (returned; pushed unless `push` is false). */
  #take(push = true): Uint8Array {
    const run = this.#scratch.subarray(0, this.#used);
    this.#length += this.#used;
    if (push && this.#used > 0) this.#parts.push(run);
    this.#scratch = this.#scratch.subarray(this.#used);
    this.#used = 0;
    return run;
  }

  #room(bytes: number): void {
    if (this.#scratch.length - this.#used >= bytes) return;
    this.#take();
    this.#scratch = Buffer.allocUnsafe(Math.max(SCRATCH_BYTES, bytes));
  }

  #raw(value: number | bigint): void {
    this.#room(10);
    if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) {
      let v = value;
      while (v > 0x7f) {
        this.#scratch[this.#used++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.#scratch[this.#used++] = v;
      return;
    }
    // Negative int64: ten bytes of two's complement, as Go writes it.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v > 0x7fn) {
      this.#scratch[this.#used++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#scratch[this.#used++] = Number(v);
  }

  #tag(num: number, wire: number): void {
    this.#raw(num * 8 + wire);
  }

  varint(num: number, value: number | bigint): this {
    this.#tag(num, WIRE_VARINT);
    this.#raw(value);
    return this;
  }

  bool(num: number, value: boolean): this {
    return this.varint(num, value ? 1 : 0);
  }

  double(num: number, value: number): this {
    this.#tag(num, WIRE_I64);
    this.#room(8);
    this.#scratch.writeDoubleLE(value, this.#used);
    this.#used += 8;
    return this;
  }

  string(num: number, value: string): this {
    const size = Buffer.byteLength(value, 'utf8');
    this.#tag(num, WIRE_LEN);
    this.#raw(size);
    if (size > INLINE_STRING_BYTES) {
      this.#take();
      this.#parts.push(Buffer.from(value, 'utf8'));
      this.#length += size;
    } else {
      this.#room(size);
      this.#used += this.#scratch.write(value, this.#used, 'utf8');
    }
    return this;
  }

  /** A sub-message, written by `body` (even when it writes nothing: presence matters for messages). */
  message(num: number, body: () => void): this {
    this.#take();
    const slot = this.#parts.length;
    this.#parts.push(EMPTY);
    const start = this.#length;
    body();
    this.#take();
    const size = this.#length - start;
    this.#tag(num, WIRE_LEN);
    this.#raw(size);
    this.#parts[slot] = this.#take(false);
    return this;
  }

  stringIf(num: number, value: unknown): this {
    return typeof value === 'string' && value !== '' ? this.string(num, value) : this;
  }

  boolIf(num: number, value: unknown): this {
    return value === true ? this.bool(num, true) : this;
  }

  doubleIf(num: number, value: unknown): this {
    return typeof value === 'number' && value !== 0 ? this.double(num, value) : this;
  }

  int64If(num: number, value: unknown): this {
    return typeof value === 'number' && Number.isInteger(value) && value !== 0 ? this.varint(num, value) : this;
  }

  strings(num: number, values: unknown): this {
    if (Array.isArray(values)) for (const v of values) if (typeof v === 'string') this.string(num, v);
    return this;
  }

  finish(): Buffer {
    this.#take();
    return Buffer.concat(this.#parts, this.#length);
  }
}
