import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import {
  byNumber,
  readFields,
  readPackedVarints,
  readVarint,
  WIRE_I32,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
} from './wire.ts';

const bytes = (...b: number[]) => Buffer.from(b);

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ApiError && err.code === 400 && pattern.test(err.message));
}

describe('readVarint', () => {
  test('single and multi-byte values', () => {
    assert.deepEqual(readVarint(bytes(0x00), 0), { value: 0n, next: 1 });
    assert.deepEqual(readVarint(bytes(0x96, 0x01), 0), { value: 150n, next: 2 });
    assert.deepEqual(readVarint(bytes(0xff, 0xac, 0x02), 1), { value: 300n, next: 3 });
  });

  test('ten-byte values (negative int32/int64 as Go writes them)', () => {
    const minusOne = bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    const { value, next } = readVarint(minusOne, 0);
    assert.equal(next, 10);
    assert.equal(BigInt.asIntN(64, value), -1n);
  });

  test('truncated or overlong varints are 400s', () => {
    rejects(() => readVarint(bytes(0x80, 0x80), 0), /truncated varint/);
    rejects(() => readVarint(Buffer.alloc(11, 0x80), 0), /longer than 10 bytes/);
  });
});

describe('readFields', () => {
  test('all four wire types, in order', () => {
    const buf = Buffer.concat([
      bytes(0x08, 0x96, 0x01), // 1: varint 150
      bytes(0x12, 0x02, 0x68, 0x69), // 2: "hi"
      bytes(0x19, 1, 0, 0, 0, 0, 0, 0, 0), // 3: fixed64
      bytes(0x25, 2, 0, 0, 0), // 4: fixed32
      bytes(0x12, 0x00), // 2 again, empty
    ]);
    const fields = readFields(buf);
    assert.deepEqual(
      fields.map((f) => [f.num, f.wire]),
      [
        [1, WIRE_VARINT],
        [2, WIRE_LEN],
        [3, WIRE_I64],
        [4, WIRE_I32],
        [2, WIRE_LEN],
      ],
    );
    assert.equal(fields[0].value, 150n);
    assert.equal((fields[1].value as Buffer).toString(), 'hi');
    assert.equal(byNumber(fields).get(2)?.length, 2);
  });

  test('an empty message has no fields', () => {
    assert.deepEqual(readFields(Buffer.alloc(0)), []);
  });

  test('lengths past the end, groups, field 0 and truncated fixed fields are 400s', () => {
    rejects(() => readFields(bytes(0x12, 0x05, 0x61)), /longer than the message/);
    rejects(() => readFields(bytes(0x12, 0xff, 0xff, 0xff, 0xff, 0x0f)), /longer than the message/);
    rejects(() => readFields(bytes(0x0b)), /wire type 3/);
    rejects(() => readFields(bytes(0x00, 0x00)), /field number 0/);
    rejects(() => readFields(bytes(0x19, 1, 2)), /truncated fixed-width/);
  });

  test('packed varints', () => {
    assert.deepEqual(readPackedVarints(bytes(0x01, 0x96, 0x01, 0x00)), [1n, 150n, 0n]);
  });
});
