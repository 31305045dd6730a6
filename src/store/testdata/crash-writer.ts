// Child process for the crash test: writes as fast as it can and prints one
// line per acknowledged write ("<rev> <key> <value>") until it is killed.
import { openSqliteStore } from '../sqlite.ts';

/** Concurrent writers: enough that a kill lands with writes in flight. */
const WRITERS = 8;

const [path, round] = process.argv.slice(2);
const store = await openSqliteStore({ path });
const ack = (rev: number, key: string, value: string) => process.stdout.write(`${rev} ${key} ${value}\n`);

async function creator(w: number): Promise<never> {
  for (let i = 0; ; i++) {
    const key = `/crash/${round}/${w}/${i}`;
    const kv = await store.create(key, `v${i}`);
    ack(kv.modRevision, key, kv.value);
  }
}

async function updater(): Promise<never> {
  const key = `/crash/hot/${round}`;
  let kv = await store.create(key, 'u0');
  ack(kv.modRevision, key, kv.value);
  for (let i = 1; ; i++) {
    kv = await store.update(key, `u${i}`, kv.modRevision);
    ack(kv.modRevision, key, kv.value);
  }
}

await Promise.all([updater(), ...Array.from({ length: WRITERS - 1 }, (_, w) => creator(w))]);
