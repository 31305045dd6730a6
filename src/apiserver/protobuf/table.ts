// The field table (fields.json): for every protobuf message reachable from
// the served kinds, each field's number, JSON name, type and Go JSON flags.
// Extracted once from Kubernetes' generated.proto files and the Go struct
// tags in types.go (proto field names are not always the JSON names, and
// only Go knows pointers, omitempty and inlined structs).
import { readFileSync } from 'node:fs';

/**
 * One field. `type` is a proto scalar ("string", "int32", "bytes", ...),
 * "@pkg.Message" for a message, or "map:<key>:<value>" for a proto map.
 */
export type FieldSpec = {
  num: number;
  json: string;
  type: string;
  /** A repeated field (a Go slice). */
  repeated: boolean;
  /** A Go pointer: present on the wire means set, zero or not. */
  pointer: boolean;
  /** The Go json tag says omitempty: zero scalars are left out. */
  omitEmpty: boolean;
  /** An embedded struct whose JSON fields sit in the parent object. */
  inline: boolean;
};

export type FieldTable = {
  /** "apps/v1/Deployment" (or "*\/DeleteOptions" for meta kinds in any group) → message name. */
  kinds: Map<string, string>;
  /** Messages that wrap a Go slice (`type ExtraValue []string`): JSON is the array. */
  arrays: Set<string>;
  messages: Map<string, FieldSpec[]>;
};

type RawTable = {
  kinds: Record<string, string>;
  arrays: string[];
  messages: Record<string, [number, string, string, string][]>;
};

const TABLE_FILE = new URL('./fields.json', import.meta.url);

export function parseTable(raw: RawTable): FieldTable {
  const messages = new Map<string, FieldSpec[]>();
  for (const [name, fields] of Object.entries(raw.messages)) {
    messages.set(
      name,
      fields.map(([num, json, type, flags]) => ({
        num,
        json,
        type,
        repeated: flags.includes('r'),
        pointer: flags.includes('p'),
        omitEmpty: flags.includes('o'),
        inline: flags.includes('i'),
      })),
    );
  }
  return { kinds: new Map(Object.entries(raw.kinds)), arrays: new Set(raw.arrays), messages };
}

let cached: FieldTable | undefined;

/** The table, read on first use (most servers never see a protobuf body). */
export function fieldTable(): FieldTable {
  cached ??= parseTable(JSON.parse(readFileSync(TABLE_FILE, 'utf8')) as RawTable);
  return cached;
}
