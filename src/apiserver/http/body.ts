// Reading and decoding request bodies: size limit, media types, JSON/YAML.
import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { errors } from '../../api/errors.ts';
import { decodeProtobufObject, isProtobufMediaType } from '../protobuf/index.ts';

/** Kubernetes' limit on a request body (3 MiB); larger bodies get 413. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Nesting deeper than this is refused before any code walks it. */
const MAX_DEPTH = 100;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw errors.tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw errors.tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

const JSON_TYPES = new Set(['application/json', '']);
const YAML_TYPES = new Set(['application/yaml', 'application/apply-patch+yaml']);
const PATCH_JSON_TYPES = new Set([
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
]);

/** Decodes a body as JSON (or YAML or Kubernetes protobuf where Kubernetes accepts them). */
export function decodeBody(buf: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType);
  if (isProtobufMediaType(type)) {
    if (buf.length === 0) throw errors.badRequest('the request body is empty');
    const value = decodeProtobufObject(buf);
    checkDepth(value, 0);
    return value;
  }
  const text = buf.toString('utf8');
  if (text.trim() === '') throw errors.badRequest('the request body is empty');
  let value: unknown;
  if (JSON_TYPES.has(type) || PATCH_JSON_TYPES.has(type)) {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw errors.badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
  } else if (YAML_TYPES.has(type)) {
    try {
      value = YAML.parse(text, { maxAliasCount: 100, uniqueKeys: false });
    } catch (err) {
      throw errors.badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  } else {
    throw errors.unsupportedMediaType(type);
  }
  checkDepth(value, 0);
  return value;
}

function checkDepth(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw errors.badRequest(`the object is nested more than ${MAX_DEPTH} levels deep`);
  if (typeof value !== 'object' || value === null) return;
  for (const child of Array.isArray(value) ? value : Object.values(value)) checkDepth(child, depth + 1);
}

/** Decodes a body that must be a JSON object (a Kubernetes object). */
export function decodeObject(buf: Buffer, contentType: string | undefined): Record<string, unknown> {
  const value = decodeBody(buf, contentType);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw errors.badRequest('the body of the request must be a JSON object');
  }
  return value as Record<string, unknown>;
}
