// `npm test`: type check, lint, then every unit and end-to-end test, all
// inside a fresh network namespace with only loopback (no route out), which
// disappears with the process.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NETNS_MARK = 'SKIFF_TEST_NETNS';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

if (!process.env[NETNS_MARK]) {
  const asRoot = process.getuid?.() === 0;
  const unshare = ['--net', '--fork', ...(asRoot ? [] : ['--map-root-user'])];
  const inner = `ip link set lo up && exec "${process.execPath}" ${JSON.stringify(import.meta.filename)} ${process.argv.slice(2).join(' ')}`;
  process.exit(run('unshare', [...unshare, 'sh', '-c', inner], { ...process.env, [NETNS_MARK]: '1' }));
}

const npxBin = (name: string) => (existsSync(`node_modules/.bin/${name}`) ? `node_modules/.bin/${name}` : name);
const only = process.argv[2]; // "unit" or "e2e" to run one half

if (!only) {
  console.log('# type check');
  if (run(npxBin('tsc'), ['--noEmit', '-p', '.']) !== 0) process.exit(1);
  console.log('# lint');
  if (run(npxBin('biome'), ['lint', 'src', 'test', 'bench', 'scripts', 'bin']) !== 0) process.exit(1);
}

const suites = only === 'unit' ? ['src/**/*.test.ts'] : only === 'e2e' ? ['test/e2e/**/*.test.ts'] : ['src/**/*.test.ts', 'test/e2e/**/*.test.ts'];
process.exit(run(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...suites]));
