import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHANNEL, chooseProtocol, decodeClientMessage, EXEC_PROTOCOLS, exitStatus, frame, PROTOCOL_V4, PROTOCOL_V5 } from './channels.ts';

describe('remotecommand channels', () => {
  test('protocol choice prefers v5 and refuses unknown ones', () => {
    assert.equal(chooseProtocol(['v4.channel.k8s.io', ' v5.channel.k8s.io'], EXEC_PROTOCOLS), PROTOCOL_V5);
    assert.equal(chooseProtocol(['v4.channel.k8s.io'], EXEC_PROTOCOLS), PROTOCOL_V4);
    assert.equal(chooseProtocol(['channel.k8s.io'], EXEC_PROTOCOLS), undefined);
  });
  test('server frames start with the channel byte', () => {
    assert.deepEqual([...frame(CHANNEL.stdout, 'hi')], [1, 104, 105]);
    assert.deepEqual([...frame(CHANNEL.stderr, Buffer.from([0]))], [2, 0]);
  });
  test('client messages: stdin, resize, close (v5 only)', () => {
    assert.deepEqual(decodeClientMessage(Buffer.from([0, 97]), PROTOCOL_V5), { kind: 'stdin', data: Buffer.from('a') });
    assert.deepEqual(decodeClientMessage(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":80,"Height":24}')]), PROTOCOL_V5), { kind: 'resize', width: 80, height: 24 });
    assert.deepEqual(decodeClientMessage(Buffer.from([4, 123]), PROTOCOL_V5), { kind: 'ignored' });
    assert.deepEqual(decodeClientMessage(Buffer.from([255, 0]), PROTOCOL_V5), { kind: 'close', channel: 0 });
    assert.deepEqual(decodeClientMessage(Buffer.from([255, 0]), PROTOCOL_V4), { kind: 'ignored' });
    assert.deepEqual(decodeClientMessage(Buffer.alloc(0), PROTOCOL_V5), { kind: 'ignored' });
  });
  test('exit status as kubectl reads it', () => {
    assert.deepEqual(exitStatus(0), { metadata: {}, status: 'Success' });
    const failed = exitStatus(3) as { reason: string; details: { causes: { reason: string; message: string }[] } };
    assert.equal(failed.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.details.causes, [{ reason: 'ExitCode', message: '3' }]);
  });
});
