import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommandError, run, runCommand } from './exec.ts';

describe('run and runCommand', () => {
  for (const direct of [false, true]) {
    test(`${direct ? 'spawned directly (SKIFF_DIRECT_SPAWN=1)' : 'through the command helper'}: output, input, exit codes, missing programs`, async () => {
      const saved = process.env.SKIFF_DIRECT_SPAWN;
      if (direct) process.env.SKIFF_DIRECT_SPAWN = '1';
      try {
        assert.equal(await run(['tr', 'a-z', 'A-Z'], { input: 'ok\n' }), 'OK\n');
        await assert.rejects(run(['sh', '-c', 'echo why >&2; exit 4']), (e) => e instanceof CommandError && e.exitCode === 4 && e.stderr === 'why\n');
        const missing = await runCommand(['/nonexistent/tool']);
        assert.notEqual(missing.code, 0);
        assert.match(missing.stderr, /nonexistent\/tool/);
      } finally {
        if (saved === undefined) delete process.env.SKIFF_DIRECT_SPAWN;
        else process.env.SKIFF_DIRECT_SPAWN = saved;
      }
    });
  }
});
