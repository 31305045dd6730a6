import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkHostPath, hostPathAction, pathKind } from './hostpath.ts';

test('hostPathAction decides per type and kind', () => {
  assert.equal(hostPathAction('', '/x', 'missing'), 'ok');
  assert.equal(hostPathAction('DirectoryOrCreate', '/x', 'missing'), 'mkdir');
  assert.equal(hostPathAction('DirectoryOrCreate', '/x', 'directory'), 'ok');
  assert.deepEqual(hostPathAction('DirectoryOrCreate', '/x', 'file'), { error: 'hostPath type check failed: /x is not a directory' });
  assert.deepEqual(hostPathAction('Directory', '/x', 'missing'), { error: 'hostPath type check failed: /x is not a directory' });
  assert.equal(hostPathAction('FileOrCreate', '/x', 'missing'), 'create-file');
  assert.deepEqual(hostPathAction('File', '/x', 'directory'), { error: 'hostPath type check failed: /x is not a file' });
  assert.deepEqual(hostPathAction('Socket', '/x', 'file'), { error: 'hostPath type check failed: /x is not a socket file' });
  assert.deepEqual(hostPathAction('CharDevice', '/x', 'block'), { error: 'hostPath type check failed: /x is not a character device' });
  assert.deepEqual(hostPathAction('BlockDevice', '/x', 'char'), { error: 'hostPath type check failed: /x is not a block device' });
  assert.deepEqual(hostPathAction('Weird', '/x', 'file'), { error: 'Weird is an invalid volume type' });
});

test('checkHostPath on real paths', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'podspec-hostpath-'));
  const server = createServer();
  try {
    await checkHostPath(join(dir, 'new', 'deep'), 'DirectoryOrCreate');
    assert.ok(statSync(join(dir, 'new', 'deep')).isDirectory());
    await checkHostPath(join(dir, 'f'), 'FileOrCreate');
    assert.ok(statSync(join(dir, 'f')).isFile());
    writeFileSync(join(dir, 'f'), 'keep');
    await checkHostPath(join(dir, 'f'), 'FileOrCreate');
    assert.equal(statSync(join(dir, 'f')).size, 4);
    await checkHostPath(join(dir, 'f'), 'File');
    await assert.rejects(checkHostPath(join(dir, 'f'), 'Directory'), /is not a directory/);
    await assert.rejects(checkHostPath(join(dir, 'missing'), 'File'), /is not a file/);
    await checkHostPath(join(dir, 'missing'), '');
    await checkHostPath('/dev/null', 'CharDevice');
    const sock = join(dir, 's.sock');
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    assert.equal(await pathKind(sock), 'socket');
    await checkHostPath(sock, 'Socket');
    await assert.rejects(checkHostPath(join(dir, 'f'), 'Socket'), /is not a socket file/);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
