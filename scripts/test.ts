// `npm test`: type check, lint, then every unit and end-to-end test, all
// inside a fresh network namespace with only loopback (no route out), which
// disappears with the process.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { reexecInFreshNetns } from './netns.ts';

function run(cmd: string, args: string[]): number {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

reexecInFreshNetns(import.meta.filename, process.argv.slice(2));

const npxBin = (name: string) => (existsSync(`node_modules/.bin/${name}`) ? `node_modules/.bin/${name}` : name);
const only = process.argv[2]; // "unit" or "e2e" to run one half

if (!only) {
  console.log('# type check');
  if (run(npxBin('tsc'), ['--noEmit', '-p', '.']) !== 0) process.exit(1);
  console.log('# lint');
  if (run(npxBin('biome'), ['lint', 'src', 'test', 'bench', 'scripts', 'bin']) !== 0) process.exit(1);
}

const suites = only === 'unit' ? ['src/**/*.test.ts'] : only === 'e2e' ? ['test/e2e/**/*.test.ts'] : ['src/**/*.test.ts', 'test/e2e/**/*.test.ts'];
// One test file at a time: the end-to-end files each run a whole cluster, and two at once on two cores make
// their timing assertions flaky.
process.exit(run(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...suites]));
