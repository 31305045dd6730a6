// Where skiff keeps its state by default.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/skiff';
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'skiff');
}
