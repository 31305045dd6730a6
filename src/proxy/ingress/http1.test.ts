import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BodyTracker, ChunkedScanner, findResponseHeadEnd, parseRequestHead, parseResponseHead } from './http1.ts';

const head = (...lines: string[]) => lines.join('\r\n');

describe('parseRequestHead', () => {
  test('a plain HTTP/1.1 request: fields in order, framing and Connection: close', () => {
    const h = parseRequestHead(head('POST /a?b=1 HTTP/1.1', 'Host: shop.example', 'Content-Length: 12', 'X-Two: a', 'X-Two: b', 'Connection: close'))!;
    assert.equal(h.method, 'POST');
    assert.equal(h.target, '/a?b=1');
    assert.equal(h.host, 'shop.example');
    assert.equal(h.contentLength, 12);
    assert.equal(h.close, true);
    assert.deepEqual(h.raw.slice(4, 8), ['X-Two', 'a', 'X-Two', 'b']);
    const chunked = parseRequestHead(head('PUT / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'))!;
    assert.equal(chunked.contentLength, -1);
    assert.equal(chunked.chunked, true);
  });

  test('anything ambiguous or special goes to node:http (undefined)', () => {
    const rejected = [
      head('GET / HTTP/1.0', 'Host: a'),
      head('GET / HTTP/1.1'), // no Host
      head('GET / HTTP/1.1', 'Host: a', 'Host: b'),
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1', 'Transfer-Encoding: chunked'),
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1', 'Content-Length: 1'),
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: -1'),
      head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked'),
      head('GET / HTTP/1.1', 'Host: a', 'X-Folded: a', ' continued'),
      head('GET / HTTP/1.1', 'Host: a', 'Bad Name: x'),
      head('GET / HTTP/1.1', 'Host: a', 'X: a\nb'),
      head('GET / HTTP/1.1', 'Host: a', 'Connection: Upgrade', 'Upgrade: websocket'),
      head('PUT / HTTP/1.1', 'Host: a', 'Expect: 100-continue'),
      head('CONNECT a:443 HTTP/1.1', 'Host: a:443'),
      head('GET /a b HTTP/1.1', 'Host: a'),
      `\r\n${head('GET / HTTP/1.1', 'Host: a')}`,
    ];
    for (const text of rejected) assert.equal(parseRequestHead(text), undefined, JSON.stringify(text));
  });
});

test('parseResponseHead: framing, keep-alive and its hint', () => {
  const r = parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 5', 'Keep-Alive: timeout=5'))!;
  assert.deepEqual([r.status, r.reason, r.contentLength, r.chunked, r.keepAlive, r.keepAliveTimeout], [200, 'OK', 5, false, true, 5]);
  const old = parseResponseHead(head('HTTP/1.0 200 OK', 'Content-Type: text/plain'))!;
  assert.deepEqual([old.contentLength, old.keepAlive], [-1, false]);
  const chunked = parseResponseHead(head('HTTP/1.1 404 Not Found', 'Transfer-Encoding: chunked', 'Content-Length: 3', 'Connection: close'))!;
  assert.deepEqual([chunked.contentLength, chunked.chunked, chunked.keepAlive], [-1, true, false]);
  assert.equal(parseResponseHead(head('HTTP/1.1 204'))?.reason, '');
  assert.equal(parseResponseHead('HTTP/2 200 OK'), undefined);
  assert.equal(parseResponseHead(head('HTTP/1.1 200 OK', 'Content-Length: 1', 'Content-Length: 2')), undefined);
});

describe('ChunkedScanner', () => {
  const body = Buffer.from('5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT');

  test('finds the end of a chunked body (extensions and trailers included), however the bytes are split', () => {
    const end = body.length - 4;
    for (let split = 1; split < body.length; split++) {
      const s = new ChunkedScanner();
      const a = s.feed(body.subarray(0, split));
      if (a >= 0) {
        assert.equal(a, end, `split ${split}`);
        continue;
      }
      const b = s.feed(body.subarray(split));
      assert.equal(b + split, end, `split ${split}`);
      assert.ok(s.done);
    }
  });

  test('malformed sizes and missing CRLFs fail', () => {
    for (const bad of ['x\r\n', '5\r\nhelloX\r\n', '\r\n', '5\nhello']) {
      const s = new ChunkedScanner();
      assert.equal(s.feed(Buffer.from(bad)), -1);
      assert.ok(s.failed, bad);
    }
  });
});

test('BodyTracker: fixed length, chunked and until-close bodies', () => {
  const fixed = new BodyTracker(5);
  assert.equal(fixed.take(Buffer.from('abc'), 0), 3);
  assert.equal(fixed.take(Buffer.from('deNEXT'), 0), 2);
  assert.ok(fixed.done);
  assert.ok(new BodyTracker(0).done);
  const chunked = new BodyTracker(-1);
  assert.equal(chunked.take(Buffer.from('XX0\r\n\r\nNEXT'), 2), 5);
  assert.ok(chunked.done);
  const untilClose = new BodyTracker(-2);
  assert.equal(untilClose.take(Buffer.from('anything'), 0), 8);
  assert.ok(!untilClose.done);
});

describe('findResponseHeadEnd', () => {
  test('CRLF, bare LF and mixed line ends; undefined until the blank line has arrived', () => {
    const at = (text: string) => findResponseHeadEnd(Buffer.from(text));
    assert.deepEqual(at('HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody'), { head: 21, next: 25 });
    assert.deepEqual(at('HTTP/1.1 200 OK\nA: b\n\nbody'), { head: 20, next: 22 });
    assert.deepEqual(at('HTTP/1.1 200 OK\r\nA: b\n\r\nbody'), { head: 21, next: 24 });
    assert.equal(at('HTTP/1.1 200 OK\r\nA: b\r\n'), undefined);
    assert.equal(at('HTTP/1.1 200 OK\r\nA: b\r\n\r'), undefined);
    const head = parseResponseHead('HTTP/1.1 404 Not Found\nContent-Length: 3\nConnection: close');
    assert.deepEqual([head?.status, head?.reason, head?.contentLength, head?.keepAlive], [404, 'Not Found', 3, false]);
  });
});
