import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ApiError } from '../api/errors.ts';
import { errorFromResponse } from './http.ts';
import { GoneError, parseWatchStream } from './watch.ts';

const stream = (chunks: string[]) => {
  const s = new PassThrough();
  for (const c of chunks) s.write(c);
  s.end();
  return s as unknown as IncomingMessage;
};

test('events split across chunks are parsed line by line', async () => {
  const body = stream(['{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MOD', 'IFIED","object":{"metadata":{"name":"a"}}}\n\n']);
  let aborted = false;
  const events = [];
  for await (const e of parseWatchStream(body, () => (aborted = true))) events.push(`${e.type} ${e.object.metadata.name}`);
  assert.deepEqual(events, ['ADDED a', 'MODIFIED a']);
  assert.equal(aborted, true, 'the request is released when the stream ends');
});

test('an ERROR event with 410 throws GoneError; other codes throw ApiError', async () => {
  const expired = stream(['{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (5)"}}\n']);
  await assert.rejects(async () => {
    for await (const _ of parseWatchStream(expired, () => {})) {
    }
  }, (err) => err instanceof GoneError && err.code === 410);
  const failed = stream(['{"type":"ERROR","object":{"kind":"Status","code":500,"reason":"InternalError","message":"x"}}\n']);
  await assert.rejects(async () => {
    for await (const _ of parseWatchStream(failed, () => {})) {
    }
  }, (err) => err instanceof ApiError && !(err instanceof GoneError) && err.code === 500);
});

test('error responses become ApiError from the Status body, or from the HTTP code', () => {
  const err = errorFromResponse(404, '{"kind":"Status","code":404,"reason":"NotFound","message":"pods \\"x\\" not found","details":{"name":"x"}}');
  assert.equal(err.reason, 'NotFound');
  assert.equal(err.details?.name, 'x');
  const plain = errorFromResponse(502, 'bad gateway');
  assert.equal(plain.code, 502);
  assert.equal(plain.message, 'bad gateway');
});
