// The protobuf wire format, just enough to read Kubernetes messages: every
// read is bounds-checked and advances, so hostile input fails fast.
import { errors } from '../../api/errors.ts';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** A varint never needs more than 10 bytes for 64 bits. */
const MAX_VARINT_BYTES = 10;

export type WireField =
  | { num: number; wire: typeof WIRE_VARINT; value: bigint }
  | { num: number; wire: typeof WIRE_I64 | typeof WIRE_I32 | typeof WIRE_LEN; value: Buffer };

export function malformed(why: string): Error {
  return errors.badRequest(`unable to decode protobuf body: ${why}`);
}

/** Reads one varint at `pos`; returns the value and the position after it. */
export function readVarint(buf: Buffer, pos: number): { value: bigint; next: number } {
  let result = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos + i >= buf.length) throw malformed('truncated varint');
    const byte = buf[pos + i];
    result |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value: BigInt.asUintN(64, result), next: pos + i + 1 };
  }
  throw malformed('varint longer than 10 bytes');
}

/** Splits a message into its fields, in wire order (repeated numbers stay separate). */
export function readFields(buf: Buffer): WireField[] {
  const fields: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const tag = readVarint(buf, pos);
    pos = tag.next;
    if (tag.value > 0xffffffffn) throw malformed('field tag out of range');
    const num = Number(tag.value >> 3n);
    const wire = Number(tag.value & 7n);
    if (num === 0) throw malformed('field number 0');
    if (wire === WIRE_VARINT) {
      const v = readVarint(buf, pos);
      pos = v.next;
      fields.push({ num, wire, value: v.value });
    } else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const size = wire === WIRE_I64 ? 8 : 4;
      if (pos + size > buf.length) throw malformed('truncated fixed-width field');
      fields.push({ num, wire, value: buf.subarray(pos, pos + size) });
      pos += size;
    } else if (wire === WIRE_LEN) {
      const len = readVarint(buf, pos);
      pos = len.next;
      if (len.value > BigInt(buf.length - pos)) throw malformed(`field ${num} is longer than the message`);
      const end = pos + Number(len.value);
      fields.push({ num, wire, value: buf.subarray(pos, end) });
      pos = end;
    } else {
      throw malformed(`unsupported wire type ${wire} for field ${num}`);
    }
  }
  return fields;
}

/** Reads a packed run of varints (a packed repeated numeric field). */
export function readPackedVarints(buf: Buffer): bigint[] {
  const values: bigint[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const v = readVarint(buf, pos);
    values.push(v.value);
    pos = v.next;
  }
  return values;
}

/** Groups fields by number; each list keeps wire order. */
export function byNumber(fields: WireField[]): Map<number, WireField[]> {
  const out = new Map<number, WireField[]>();
  for (const f of fields) {
    const list = out.get(f.num);
    if (list) list.push(f);
    else out.set(f.num, [f]);
  }
  return out;
}
