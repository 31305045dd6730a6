// Kubernetes protobuf request bodies (what kubectl's typed clients send),
// decoded into the JSON objects the rest of the apiserver works with.
// Responses stay JSON: kubectl accepts them.
export { decodeProtobufObject, PROTOBUF_MAGIC } from './decode.ts';
export type { FieldSpec, FieldTable } from './table.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** True for `application/vnd.kubernetes.protobuf` (parameters and case ignored). */
export function isProtobufMediaType(contentType: string): boolean {
  return contentType.split(';')[0].trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}
