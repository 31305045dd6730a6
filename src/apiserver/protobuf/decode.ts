// Kubernetes protobuf (the `k8s\0` envelope around a runtime.Unknown) →
// the JSON object Go's encoding/json would have produced for the same value.
import { errors } from '../../api/errors.ts';
import { type FieldSpec, type FieldTable, fieldTable } from './table.ts';
import { formatDuration, formatMicroTime, formatTime } from './wellknown.ts';
import {
  byNumber,
  malformed,
  readFields,
  readPackedVarints,
  WIRE_I32,
  WIRE_I64,
  WIRE_LEN,
  WIRE_VARINT,
  type WireField,
} from './wire.ts';

/** The four bytes before every Kubernetes protobuf object. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** Same nesting limit as the JSON path (body.ts); real objects stay far below it. */
const MAX_DEPTH = 100;

type Obj = Record<string, unknown>;
/** What #special answers for an ordinary message (undefined already means "null"). */
const NOT_SPECIAL = Symbol('not special');

function scalar(type: string, f: WireField): unknown {
  if (f.wire === WIRE_VARINT) {
    const v = f.value;
    switch (type) {
      case 'int32':
        return Number(BigInt.asIntN(32, v));
      case 'int64':
        return Number(BigInt.asIntN(64, v));
      case 'uint32':
        return Number(BigInt.asUintN(32, v));
      case 'uint64':
        return Number(v);
      case 'bool':
        return v !== 0n;
    }
  } else if (f.wire === WIRE_LEN) {
    if (type === 'string') return f.value.toString('utf8');
    if (type === 'bytes') return f.value.toString('base64');
  } else if (f.wire === WIRE_I64) {
    if (type === 'double') return f.value.readDoubleLE(0);
    if (type === 'fixed64' || type === 'sfixed64') return Number(f.value.readBigInt64LE(0));
  } else if (f.wire === WIRE_I32 && type === 'float') {
    return f.value.readFloatLE(0);
  }
  throw malformed(`field ${f.num}: wire type ${f.wire} does not carry a ${type}`);
}

/** Scalar elements of a repeated field; numeric ones may arrive packed. */
function repeatedScalars(type: string, f: WireField): unknown[] {
  if (f.wire !== WIRE_LEN || type === 'string' || type === 'bytes') return [scalar(type, f)];
  if (type === 'double') return chunks(f.value, 8).map((b) => b.readDoubleLE(0));
  if (type === 'float') return chunks(f.value, 4).map((b) => b.readFloatLE(0));
  return readPackedVarints(f.value).map((value) => scalar(type, { num: f.num, wire: WIRE_VARINT, value }));
}

function chunks(buf: Buffer, size: number): Buffer[] {
  if (buf.length % size !== 0) throw malformed('packed field has a partial element');
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function zeroScalar(type: string): unknown {
  if (type === 'string' || type === 'bytes') return '';
  return type === 'bool' ? false : 0;
}

const isZero = (v: unknown) => v === '' || v === 0 || v === false;

function lastOf(fields: WireField[]): WireField {
  return fields[fields.length - 1];
}

function bytesOf(f: WireField | undefined): Buffer {
  if (!f) return Buffer.alloc(0);
  if (f.wire !== WIRE_LEN) throw malformed(`field ${f.num} should be length-delimited`);
  return f.value;
}

function intOf(f: WireField | undefined): bigint {
  if (!f) return 0n;
  if (f.wire !== WIRE_VARINT) throw malformed(`field ${f.num} should be a varint`);
  return f.value;
}

function parseJson(raw: Buffer, what: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw errors.badRequest(`unable to decode protobuf body: ${what} is not JSON: ${(err as Error).message}`);
  }
}

class Decoder {
  readonly #table: FieldTable;
  constructor(table: FieldTable) {
    this.#table = table;
  }

  /** The JSON value of one message; undefined where Go's JSON would print null. */
  message(name: string, buf: Buffer, depth: number): unknown {
    if (depth > MAX_DEPTH) throw errors.badRequest(`the object is nested more than ${MAX_DEPTH} levels deep`);
    const special = this.#special(name, buf, depth);
    if (special !== NOT_SPECIAL) return special;
    const specs = this.#table.messages.get(name);
    if (!specs) throw errors.badRequest(`unable to decode protobuf body: no field table for ${name}`);
    const fields = byNumber(readFields(buf));
    if (this.#table.arrays.has(name)) {
      return (fields.get(1) ?? []).flatMap((f) => repeatedScalars(specs[0].type, f));
    }
    const out: Obj = {};
    for (const spec of specs) {
      const present = fields.get(spec.num);
      if (present) this.#field(out, spec, present, depth);
    }
    return out;
  }

  #field(out: Obj, spec: FieldSpec, present: WireField[], depth: number): void {
    const { type } = spec;
    if (type.startsWith('map:')) {
      const entries = this.#map(type, present, depth);
      if (Object.keys(entries).length > 0) out[spec.json] = entries;
      return;
    }
    const message = type.startsWith('@') ? type.slice(1) : undefined;
    if (spec.repeated) {
      const items = message
        ? present.map((f) => this.message(message, bytesOf(f), depth + 1) ?? null)
        : present.flatMap((f) => repeatedScalars(type, f));
      if (items.length > 0) out[spec.json] = items;
      return;
    }
    const last = lastOf(present);
    if (message) {
      const value = this.message(message, bytesOf(last), depth + 1);
      if (spec.inline && typeof value === 'object' && value !== null) Object.assign(out, value);
      else if (value !== undefined) out[spec.json] = value;
      return;
    }
    const value = scalar(type, last);
    // Go encodes non-pointer scalars even when zero; its JSON drops them only with omitempty.
    if (!spec.pointer && spec.omitEmpty && isZero(value)) return;
    out[spec.json] = value;
  }

  #map(type: string, entries: WireField[], depth: number): Obj {
    const [, keyType, valueType] = type.split(':');
    const out: Obj = {};
    for (const entry of entries) {
      const fields = byNumber(readFields(bytesOf(entry)));
      const key = fields.get(1);
      const value = fields.get(2);
      const keyText = String(key ? scalar(keyType, lastOf(key)) : zeroScalar(keyType));
      if (valueType.startsWith('@')) {
        out[keyText] = this.message(valueType.slice(1), bytesOf(value && lastOf(value)), depth + 1) ?? null;
      } else {
        out[keyText] = value ? scalar(valueType, lastOf(value)) : zeroScalar(valueType);
      }
    }
    return out;
  }

  #special(name: string, buf: Buffer, depth: number): unknown {
    switch (name) {
      case 'meta.v1.Time':
      case 'meta.v1.MicroTime': {
        // A zero time travels as an empty message; Go's JSON prints null.
        if (buf.length === 0) return undefined;
        const f = byNumber(readFields(buf));
        const seconds = Number(BigInt.asIntN(64, intOf(f.get(1)?.at(-1))));
        const nanos = Number(BigInt.asIntN(32, intOf(f.get(2)?.at(-1))));
        try {
          return name === 'meta.v1.Time' ? formatTime(seconds) : formatMicroTime(seconds, nanos);
        } catch (err) {
          throw malformed((err as Error).message);
        }
      }
      case 'meta.v1.Duration':
        return formatDuration(BigInt.asIntN(64, intOf(byNumber(readFields(buf)).get(1)?.at(-1))));
      case 'resource.Quantity': {
        const s = byNumber(readFields(buf)).get(1)?.at(-1);
        return s ? scalar('string', s) : '0';
      }
      case 'intstr.IntOrString': {
        const f = byNumber(readFields(buf));
        const isString = intOf(f.get(1)?.at(-1)) === 1n;
        if (isString) return scalar('string', f.get(3)?.at(-1) ?? { num: 3, wire: WIRE_LEN, value: Buffer.alloc(0) });
        return Number(BigInt.asIntN(32, intOf(f.get(2)?.at(-1))));
      }
      case 'meta.v1.FieldsV1': {
        const raw = bytesOf(byNumber(readFields(buf)).get(1)?.at(-1));
        return raw.length === 0 ? undefined : parseJson(raw, 'FieldsV1');
      }
      case 'runtime.RawExtension': {
        const raw = bytesOf(byNumber(readFields(buf)).get(1)?.at(-1));
        if (raw.length === 0) return undefined;
        if (raw.subarray(0, 4).equals(PROTOBUF_MAGIC)) return this.envelope(raw, depth + 1);
        return parseJson(raw, 'an embedded object');
      }
    }
    return NOT_SPECIAL;
  }

  /** `k8s\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding, contentType}. */
  envelope(body: Buffer, depth: number): Obj {
    if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
      throw errors.badRequest('unable to decode protobuf body: it does not start with the Kubernetes protobuf prefix');
    }
    const unknown = byNumber(readFields(body.subarray(4)));
    const typeMeta = byNumber(readFields(bytesOf(unknown.get(1)?.at(-1))));
    const text = (f: WireField[] | undefined) => (f ? String(scalar('string', lastOf(f))) : '');
    const apiVersion = text(typeMeta.get(1));
    const kind = text(typeMeta.get(2));
    const raw = bytesOf(unknown.get(2)?.at(-1));
    const encoding = text(unknown.get(3));
    const contentType = text(unknown.get(4));
    if (encoding !== '')
      throw errors.badRequest(`unable to decode protobuf body: unsupported content encoding "${encoding}"`);
    if (!kind || !apiVersion) throw errors.badRequest("Object 'Kind' is missing in protobuf body");
    if (contentType.startsWith('application/json')) {
      const value = parseJson(raw, 'the embedded object');
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw errors.badRequest('the body of the request must be a JSON object');
      }
      return { kind, apiVersion, ...(value as Obj) };
    }
    const name = this.#table.kinds.get(`${apiVersion}/${kind}`) ?? this.#table.kinds.get(`*/${kind}`);
    if (!name) throw errors.badRequest(`no kind "${kind}" is registered for version "${apiVersion}" in protobuf`);
    const value = this.message(name, raw, depth + 1) as Obj;
    return { kind, apiVersion, ...value };
  }
}

/**
 * Decodes a Kubernetes protobuf request body into the JSON object kubectl
 * would have sent as JSON. Throws a 400 ApiError on malformed input or a
 * kind outside the table.
 */
export function decodeProtobufObject(body: Buffer, table: FieldTable = fieldTable()): Record<string, unknown> {
  return new Decoder(table).envelope(body, 0);
}
