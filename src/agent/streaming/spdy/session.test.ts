import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { describe, test } from 'node:test';
import { constants, createDeflate } from 'node:zlib';
import { createLogger } from '../../../lib/log.ts';
import { servePortForward } from '../port-forward.ts';
import { SPDY_DICTIONARY } from './dictionary.ts';
import { encodeHeaderBlock, HeaderCodec } from './headers.ts';
import { controlFrame, dataFrame } from './session.ts';

/** Compresses header blocks as Go's framer does: one real zlib stream, a sync flush per block. */
async function compressBlocks(blocks: Record<string, string>[]): Promise<Buffer[]> {
  const deflate = createDeflate({ dictionary: SPDY_DICTIONARY, level: constants.Z_BEST_COMPRESSION });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const out: Buffer[] = [];
  for (const block of blocks) {
    deflate.write(encodeHeaderBlock(block));
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
    out.push(Buffer.concat(chunks.splice(0)));
  }
  return out;
}

/** A client end as Go's spdystream speaks it: one compression context per direction. */
function client(compressed: Buffer[]) {
  const inbound = new HeaderCodec();
  const synStream = (id: number) => {
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id, 0);
    return controlFrame(1, 0, Buffer.concat([head, compressed.shift()!]));
  };
  type Frame = { control: boolean; type: number; flags: number; streamId: number; body: Buffer; headers?: Record<string, string> };
  let pending = Buffer.alloc(0);
  const parse = (chunk: Buffer): Frame[] => {
    pending = Buffer.concat([pending, chunk]);
    const frames: Frame[] = [];
    while (pending.length >= 8) {
      const length = pending.readUInt32BE(4) & 0xffffff;
      if (pending.length < 8 + length) break;
      const control = (pending[0] & 0x80) !== 0;
      const body = pending.subarray(8, 8 + length);
      const f: Frame = { control, type: control ? pending.readUInt16BE(2) : 0, flags: pending[4], streamId: control ? (body.length >= 4 ? body.readUInt32BE(0) : 0) : pending.readUInt32BE(0), body };
      if (control && f.type === 2) f.headers = inbound.decode(body.subarray(4));
      frames.push(f);
      pending = pending.subarray(8 + length);
    }
    return frames;
  };
  return { synStream, parse };
}

describe('SPDY/3.1 port-forward session', () => {
  test('the dictionary is the spec one', () => {
    assert.equal(SPDY_DICTIONARY.length, 1423);
    assert.equal(createHash('sha256').update(SPDY_DICTIONARY).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
  });

  test('error+data stream pair forwards bytes both ways; ping echoed; bad port reported', async () => {
    const echo = createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const port = (echo.address() as AddressInfo).port;
    const frames: ReturnType<ReturnType<typeof client>['parse']> = [];
    const c = client(
      await compressBlocks([
        { streamtype: 'error', port: String(port), requestid: '0' },
        { streamtype: 'data', port: String(port), requestid: '0' },
        { streamtype: 'error', port: '0', requestid: '1' },
        { streamtype: 'data', port: '0', requestid: '1' },
      ]),
    );
    let closed = false;
    const session = servePortForward({
      transport: { write: (data) => frames.push(...c.parse(data)), close: () => { closed = true; } },
      dial: (p) => connect({ host: '127.0.0.1', port: p }),
      log: createLogger('test'),
    });
    session.receive(c.synStream(1));
    session.receive(dataFrame(1, 1, Buffer.alloc(0)));
    // Split the SYN_STREAM across two receives: framing must not care.
    const syn = c.synStream(3);
    session.receive(syn.subarray(0, 5));
    session.receive(syn.subarray(5));
    assert.deepEqual(frames.filter((f) => f.control && f.type === 2).map((f) => f.streamId), [1, 3]);
    assert.deepEqual(frames.filter((f) => f.control && f.type === 2).map((f) => f.headers), [{}, {}]);
    session.receive(dataFrame(3, 0, Buffer.from('ping-pong')));
    const deadline = Date.now() + 2000;
    const dataFor = (id: number) => Buffer.concat(frames.filter((f) => !f.control && f.streamId === id).map((f) => f.body)).toString();
    while (dataFor(3) !== 'ping-pong' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(dataFor(3), 'ping-pong');
    const ping = controlFrame(6, 0, Buffer.from([0, 0, 0, 1]));
    session.receive(ping);
    assert.ok(frames.some((f) => f.control && f.type === 6 && f.body.readUInt32BE(0) === 1));
    // Client FIN on data: the pod side sees EOF, echoes it, and both our streams end with FIN.
    session.receive(dataFrame(3, 1, Buffer.alloc(0)));
    while (!frames.some((f) => !f.control && f.streamId === 1 && f.flags & 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(frames.some((f) => !f.control && f.streamId === 3 && f.flags & 1), 'data stream FIN');
    assert.ok(frames.some((f) => !f.control && f.streamId === 1 && f.flags & 1), 'error stream FIN');

    session.receive(c.synStream(5));
    session.receive(c.synStream(7));
    assert.match(dataFor(5), /invalid port/);
    session.close();
    assert.equal(closed, true);
    assert.ok(frames.some((f) => f.control && f.type === 7), 'GOAWAY sent');
    echo.close();
  });
});
