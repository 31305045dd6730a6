import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogFormatter, parseCriLine, parseLogOptions, tailStart } from './cri-log.ts';

const T1 = '2024-01-01T00:00:01.123456789Z';
const T2 = '2024-01-01T00:00:02.000000001Z';

describe('parseCriLine', () => {
  test('full and partial lines, tags and empty text', () => {
    assert.deepEqual(parseCriLine(`${T1} stdout F hello world`), { time: T1, timeMs: Date.parse(T1), stream: 'stdout', full: true, text: 'hello world' });
    assert.equal(parseCriLine(`${T1} stderr P part`)?.full, false);
    assert.equal(parseCriLine(`${T1} stderr P part`)?.stream, 'stderr');
    assert.equal(parseCriLine(`${T1} stdout F:x text`)?.text, 'text');
    assert.equal(parseCriLine(`${T1} stdout F `)?.text, '');
    assert.equal(parseCriLine(`${T1} stdout F`)?.text, '');
    assert.equal(parseCriLine(`${T1} stdout F  two  spaces`)?.text, ' two  spaces');
  });
  test('rejects lines that are not CRI', () => {
    assert.equal(parseCriLine('garbage'), undefined);
    assert.equal(parseCriLine(`${T1} stdin F x`), undefined);
    assert.equal(parseCriLine('notatime stdout F x'), undefined);
  });
});

describe('LogFormatter', () => {
  const file = `${T1} stdout P hel\n${T1} stdout F lo\n${T2} stderr F oops\n`;
  test('joins partial lines; timestamps prefix each piece', () => {
    assert.equal(new LogFormatter({ follow: false, previous: false, timestamps: false }).feed(file), 'hello\noops\n');
    assert.equal(new LogFormatter({ follow: false, previous: false, timestamps: true }).feed(`${T2} stdout F x\n`), `${T2} x\n`);
  });
  test('any chunking gives the same output', () => {
    const f = new LogFormatter({ follow: false, previous: false, timestamps: false });
    let out = '';
    for (const ch of file) out += f.feed(ch);
    assert.equal(out, 'hello\noops\n');
  });
  test('since drops older entries; limitBytes cuts and stops', () => {
    assert.equal(new LogFormatter({ follow: false, previous: false, timestamps: false, sinceMs: Date.parse(T2) }).feed(file), 'oops\n');
    const limited = new LogFormatter({ follow: false, previous: false, timestamps: false, limitBytes: 3 });
    assert.equal(limited.feed(file), 'hel');
    assert.equal(limited.done, true);
    assert.equal(limited.feed(file), '');
  });
});

describe('tailStart', () => {
  test('last n raw lines', () => {
    const text = 'a\nb\nc\n';
    assert.equal(text.slice(tailStart(text, 2)), 'b\nc\n');
    assert.equal(text.slice(tailStart(text, 5)), text);
    assert.equal(text.slice(tailStart(text, 0)), '');
    assert.equal('a\nb'.slice(tailStart('a\nb', 1)), 'b');
  });
});

describe('parseLogOptions', () => {
  test('reads PodLogOptions', () => {
    const o = parseLogOptions(new URLSearchParams('follow=true&tailLines=5&timestamps=true&sinceSeconds=10&limitBytes=100'), 100_000);
    assert.deepEqual(o, { follow: true, previous: false, timestamps: true, tailLines: 5, limitBytes: 100, sinceMs: 90_000 });
    assert.equal(parseLogOptions(new URLSearchParams(`sinceTime=${T1}`), 0).sinceMs, Date.parse(T1));
  });
  test('rejects bad values', () => {
    assert.throws(() => parseLogOptions(new URLSearchParams('tailLines=-1'), 0), /tailLines/);
    assert.throws(() => parseLogOptions(new URLSearchParams('sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z'), 0), /at most one/);
    assert.throws(() => parseLogOptions(new URLSearchParams('sinceTime=yesterday'), 0), /sinceTime/);
  });
});
