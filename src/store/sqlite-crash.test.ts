// Crash safety: kill -9 a writing process and check that every acknowledged
// write survived, the file opens cleanly and revisions continue in order.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { openSqliteStore } from './sqlite.ts';

const WRITER = join(import.meta.dirname, 'testdata', 'crash-writer.ts');
const ROUNDS = 3;

type Ack = { rev: number; key: string; value: string };

/** Run the writer until it has acknowledged at least `acks` writes, then SIGKILL it. */
function runAndKill(path: string, round: number, acks: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, path, String(round)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const got: Ack[] = [];
    let buf = '';
    let killing = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const [rev, key, value] = line.split(' ');
        got.push({ rev: Number(rev), key, value });
      }
      // A random extra delay so the kill lands at varying points of a commit.
      if (got.length >= acks && !killing) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.random() * 5);
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (${signal})`));
      else resolve(got);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'skiff-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('kill -9 mid-write loses no acknowledged write', async () => {
  const path = join(dir, 'state.db');
  for (let round = 0; round < ROUNDS; round++) {
    // Vary the kill point so it lands at different moments of a commit.
    const acks = await runAndKill(path, round, 2000 + round * 1500);
    assert.ok(acks.length >= 2000, `only ${acks.length} acks`);

    const db = new DatabaseSync(path);
    assert.equal(db.prepare('PRAGMA integrity_check').get()!.integrity_check, 'ok');
    const { n, top } = db.prepare('SELECT count(*) AS n, max(rev) AS top FROM log').get()!;
    assert.equal(n, top, 'revisions are contiguous from 1');
    db.close();

    const store = await openSqliteStore({ path });
    const rev = await store.currentRevision();
    assert.ok(rev >= Math.max(...acks.map((a) => a.rev)));
    for (const a of acks) {
      const seen = (await store.list(a.key, { revision: a.rev })).items.find((kv) => kv.key === a.key);
      assert.deepEqual([seen?.value, seen?.modRevision], [a.value, a.rev], `ack ${a.rev} ${a.key}`);
    }
    const next = await store.create(`/after/${round}`, 'x');
    assert.equal(next.modRevision, rev + 1);
    await store.close();
  }
});
