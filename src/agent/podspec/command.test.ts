import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandCommandAndArgs, processArgs } from './command.ts';
import { ContainerConfigError } from './types.ts';

// The table from Kubernetes' "Define a Command and Arguments for a Container" page.
describe('command/args vs ENTRYPOINT/CMD (Kubernetes docs table)', () => {
  const image = { entrypoint: ['/ep-1'], cmd: ['foo', 'bar'] };
  test('neither: image entrypoint and cmd', () => assert.deepEqual(processArgs({ ...image }), ['/ep-1', 'foo', 'bar']));
  test('command only: cmd dropped', () => assert.deepEqual(processArgs({ ...image, command: ['/ep-2'] }), ['/ep-2']));
  test('args only: entrypoint + args', () => assert.deepEqual(processArgs({ ...image, args: ['zoo', 'boo'] }), ['/ep-1', 'zoo', 'boo']));
  test('both: command + args', () =>
    assert.deepEqual(processArgs({ ...image, command: ['/ep-2'], args: ['zoo', 'boo'] }), ['/ep-2', 'zoo', 'boo']));
});

test('image without entrypoint runs cmd; [""] entrypoint counts as none', () => {
  assert.deepEqual(processArgs({ cmd: ['sh', '-c', 'x'] }), ['sh', '-c', 'x']);
  assert.deepEqual(processArgs({ entrypoint: [''], cmd: ['sh'] }), ['sh']);
  assert.deepEqual(processArgs({ args: ['echo', 'hi'] }), ['echo', 'hi']);
});

test('nothing to run is a CreateContainerError', () => {
  assert.throws(
    () => processArgs({}),
    (err: unknown) => err instanceof ContainerConfigError && err.reason === 'CreateContainerError' && err.message === 'no command specified',
  );
});

test('$(VAR) in command and args comes from the container env; $$ escapes', () => {
  const out = expandCommandAndArgs(
    { command: ['sh', '-c', 'echo $(GREETING) $$(GREETING) $(MISSING)'], args: ['$(NAME)'] },
    [
      { name: 'GREETING', value: 'hello' },
      { name: 'NAME', value: 'world' },
    ],
  );
  assert.deepEqual(out, { command: ['sh', '-c', 'echo hello $(GREETING) $(MISSING)'], args: ['world'] });
  assert.deepEqual(expandCommandAndArgs({}, []), { command: undefined, args: undefined });
});
