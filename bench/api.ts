// API benchmark (`npm run bench`): a real `skiff server` driven over HTTPS by
// a raw keep-alive client, next to the same workloads on a bare sqlite store,
// with targets and PASS/MISS. Runs inside a fresh loopback-only network
// namespace.
//   npm run bench                    full run (a few minutes on 2 cores)
//   npm run bench -- --quick         smaller counts, for development
//   npm run bench -- --markdown      also print the table as Markdown (for README.md)
//   npm run bench -- --server-cpu-prof DIR   V8 CPU profile of the server into DIR
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { reexecInFreshNetns } from '../scripts/netns.ts';
import { type ApiResults, type MemoryRow, formatApiBench, formatApiBenchMarkdown } from './api-report.ts';
import { type ApiClient, startBenchServer } from './api-server.ts';
import { storeColumn } from './api-store.ts';
import { withLoopDelay } from './measure.ts';
import {
  NAMESPACE,
  apiList,
  apiPaced,
  apiWatch,
  apiWrites,
  createConfigMap,
  ensureNamespace,
  fillConfigMaps,
  fillPods,
  storedBytes,
} from './api-workloads.ts';

reexecInFreshNetns(import.meta.filename, process.argv.slice(2));

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    'server-cpu-prof': { type: 'string' },
    'no-store': { type: 'boolean', default: false },
  },
});

type Plan = {
  concurrency: number[];
  writesPerLevel: number;
  /** Bound on each closed-loop phase. */
  phaseMaxSeconds: number;
  /** ConfigMap data size: a typical small Kubernetes object is 1-2 KB of JSON. */
  payloadBytes: number;
  pods: number;
  listRuns: number;
  pacedPerSecond: number;
  pacedSeconds: number;
  watchers: number;
  watchPerSecond: number;
  watchSeconds: number;
  /** Total stored objects for the second memory reading (the first is at `pods`). */
  memoryObjects: number;
  fillMaxSeconds: number;
};

const FULL: Plan = {
  concurrency: [1, 10, 100],
  writesPerLevel: 2000,
  phaseMaxSeconds: 30,
  payloadBytes: 1000,
  pods: 10_000,
  listRuns: 5,
  pacedPerSecond: 200,
  pacedSeconds: 10,
  watchers: 100,
  watchPerSecond: 500,
  watchSeconds: 4,
  memoryObjects: 100_000,
  fillMaxSeconds: 240,
};

const QUICK: Plan = {
  ...FULL,
  writesPerLevel: 300,
  phaseMaxSeconds: 10,
  pods: 1000,
  listRuns: 3,
  pacedSeconds: 3,
  watchSeconds: 1,
  memoryObjects: 10_000,
  fillMaxSeconds: 60,
};

const plan = flags.quick ? QUICK : FULL;
const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

async function runApi(): Promise<{ results: ApiResults; configMapBytes: number; podBytes: number }> {
  const server = await startBenchServer({ cpuProfDir: flags['server-cpu-prof'] });
  progress(`server pid ${server.pid} at ${server.url}`);
  try {
    const { client } = server;
    const memory: MemoryRow[] = [];
    const readMemory = (objects: number) => memory.push({ objects, ...renameRss(server.rssBytes()) });
    await ensureNamespace(client);
    readMemory(0);

    await createConfigMap(client, 'size-probe', plan.payloadBytes);
    const configMapBytes = await storedBytes(client, `/api/v1/namespaces/${NAMESPACE}/configmaps/size-probe`);

    progress(`creating ${plan.pods} pods`);
    const podFill = await fillPods(client, plan.pods, plan.fillMaxSeconds);
    const podBytes = await storedBytes(client, `/api/v1/namespaces/${NAMESPACE}/pods/p-0`);
    readMemory(plan.pods);
    progress(`LIST x${plan.listRuns}`);
    const list = await apiList(client, { items: plan.pods, runs: plan.listRuns });

    progress('closed-loop writes');
    const [writes, writesDelay] = await withLoopDelay(() =>
      apiWrites(client, {
        concurrency: plan.concurrency,
        writesPerLevel: plan.writesPerLevel,
        maxSeconds: plan.phaseMaxSeconds,
        payloadBytes: plan.payloadBytes,
      }),
    );
    progress(`paced writes @${plan.pacedPerSecond}/s`);
    const [paced, pacedDelay] = await withLoopDelay(() =>
      apiPaced(client, { perSecond: plan.pacedPerSecond, seconds: plan.pacedSeconds, payloadBytes: plan.payloadBytes, prefix: 'paced-' }),
    );
    progress(`watch: ${plan.watchers} watchers @${plan.watchPerSecond}/s`);
    const [watch, watchDelay] = await withLoopDelay(() =>
      apiWatch(client, {
        watchers: plan.watchers,
        perSecond: plan.watchPerSecond,
        seconds: plan.watchSeconds,
        payloadBytes: plan.payloadBytes,
      }),
    );
    const clientDelay = { writes: writesDelay, paced: pacedDelay, watch: watchDelay };

    const stored = plan.pods + (await countConfigMaps(client));
    const missing = plan.memoryObjects - stored;
    let fill: ApiResults['fill'];
    if (missing > 0) {
      progress(`creating ${missing} ConfigMaps for ${plan.memoryObjects} stored objects`);
      fill = await fillConfigMaps(client, missing, plan.fillMaxSeconds, plan.payloadBytes);
    }
    readMemory(plan.pods + (await countConfigMaps(client)));
    return {
      results: { writes, paced, pacedPerSecond: plan.pacedPerSecond, list, watch, podFill, fill, memory, clientDelay },
      configMapBytes,
      podBytes,
    };
  } finally {
    await server.stop();
  }
}

const renameRss = (r: { rss: number; peak: number }) => ({ rssBytes: r.rss, peakBytes: r.peak });

async function countConfigMaps(client: ApiClient): Promise<number> {
  const reply = await client.request('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps?limit=1`);
  const list = JSON.parse(reply.body) as { items: unknown[]; metadata: { remainingItemCount?: number } };
  return list.items.length + (list.metadata.remainingItemCount ?? 0);
}

const t0 = performance.now();
const loadAtStart = loadavg()[0].toFixed(1);
const api = await runApi();
let store: Awaited<ReturnType<typeof storeColumn>> | undefined;
if (!flags['no-store']) {
  progress('store column (same workloads on a bare sqlite store)');
  store = await storeColumn({
    concurrency: plan.concurrency,
    writesPerLevel: plan.writesPerLevel,
    configMapBytes: api.configMapBytes,
    podBytes: api.podBytes,
    listItems: plan.pods,
    listRuns: plan.listRuns,
    pacedPerSecond: plan.pacedPerSecond,
    pacedSeconds: plan.pacedSeconds,
    watchers: plan.watchers,
    watchPerSecond: plan.watchPerSecond,
    watchSeconds: plan.watchSeconds,
  });
}
console.log(
  `skiff API benchmark${flags.quick ? ' (--quick)' : ''}: ConfigMaps with ${plan.payloadBytes} B of data (${api.configMapBytes} B stored), ` +
    `Pods of ${api.podBytes} B, one namespace; ${plan.writesPerLevel} creates then as many PUTs per concurrency; ` +
    `${availableParallelism()} CPUs (load average at start ${loadAtStart}), node ${process.version}, ${Math.round((performance.now() - t0) / 1000)} s`,
);
console.log(formatApiBench(api.results, store));
if (flags.markdown) console.log(`\n${formatApiBenchMarkdown(api.results, store)}`);
