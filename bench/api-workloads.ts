// The API benchmark's workloads against a running skiff server: closed-loop
// creates and updates, open-loop writes at a steady rate, LIST over many
// pods (JSON, Table, paginated), watch delivery to many watchers, and bulk
// filling for memory readings.
import { type ApiClient, type Reply, RequestError } from './api-server.ts';
import { type Stats, closedLoop, openLoop, summarize } from './measure.ts';

export const NAMESPACE = 'bench';
const CM_PATH = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
const POD_PATH = `/api/v1/namespaces/${NAMESPACE}/pods`;
export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io';
/** Page size for the paginated LIST (what `kubectl get` uses by default). */
export const LIST_PAGE = 500;
/** Where a list's metadata (and continue token) must be found: before the first item. */
const LIST_HEAD_CHARS = 2000;
/** Objects in flight at once when filling the server in bulk. */
const FILL_CONCURRENCY = 100;
/** Longest wait for writes or watch events still under way at the end of a paced phase. */
const DRAIN_SECONDS = 10;

export type WriteRow = { op: 'create' | 'update'; concurrency: number; stats: Stats };

async function ok(client: ApiClient, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply> {
  const reply = await client.request(method, path, body, headers);
  if (reply.status < 200 || reply.status > 299) throw new RequestError(method, path, reply);
  return reply;
}

/** A ConfigMap whose data is `payloadBytes` of text; `gen` varies the content between updates. */
export function configMap(name: string, payloadBytes: number, gen = 0, resourceVersion?: string) {
  const fill = String.fromCharCode(97 + (gen % 26));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: NAMESPACE, ...(resourceVersion ? { resourceVersion } : {}) },
    data: { payload: fill.repeat(payloadBytes) },
  };
}

function pod(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'app', image: 'registry.local/bench:1' }] },
  };
}

const rvOf = (reply: Reply) => (JSON.parse(reply.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;

export async function ensureNamespace(client: ApiClient): Promise<void> {
  const reply = await client.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  if (reply.status !== 201 && reply.status !== 409) throw new RequestError('POST', '/api/v1/namespaces', reply);
}

/** Size in bytes of an object as the server returns (and, near enough, stores) it. */
export async function storedBytes(client: ApiClient, path: string): Promise<number> {
  return Buffer.byteLength((await ok(client, 'GET', path)).body);
}

export async function createConfigMap(client: ApiClient, name: string, payloadBytes: number): Promise<string> {
  return rvOf(await ok(client, 'POST', CM_PATH, configMap(name, payloadBytes)));
}

export type WriteOptions = { concurrency: number[]; writesPerLevel: number; maxSeconds: number; payloadBytes: number };

/** At each concurrency: creates (closed loop), then one PUT with resourceVersion per created object. */
export async function apiWrites(client: ApiClient, o: WriteOptions): Promise<WriteRow[]> {
  const rows: WriteRow[] = [];
  for (const c of o.concurrency) {
    const perWorker = Math.ceil(o.writesPerLevel / c);
    const made: { name: string; rv: string }[][] = Array.from({ length: c }, () => []);
    const create = await closedLoop({
      concurrency: c,
      perWorker,
      maxSeconds: o.maxSeconds,
      op: async (w, i) => {
        const name = `w${c}-${w}-${i}`;
        made[w].push({ name, rv: await createConfigMap(client, name, o.payloadBytes) });
      },
    });
    rows.push({ op: 'create', concurrency: c, stats: create });
    const update = await closedLoop({
      concurrency: c,
      perWorker,
      maxSeconds: o.maxSeconds,
      op: async (w, i) => {
        const obj = made[w][i];
        if (!obj) throw new Error('no object to update');
        const body = configMap(obj.name, o.payloadBytes, 1, obj.rv);
        obj.rv = rvOf(await ok(client, 'PUT', `${CM_PATH}/${obj.name}`, body));
      },
    });
    rows.push({ op: 'update', concurrency: c, stats: update });
  }
  return rows;
}

export type PacedOptions = { perSecond: number; seconds: number; payloadBytes: number; prefix: string };

/**
 * Open-loop writes at a steady rate, alternating a create of a new ConfigMap
 * with a PUT to one of perSecond/2 pre-made ones (each is updated about once
 * a second, long after its previous update finished).
 */
export async function apiPaced(client: ApiClient, o: PacedOptions): Promise<Stats> {
  const poolSize = Math.max(1, Math.round(o.perSecond / 2));
  const pool = await Promise.all(
    Array.from({ length: poolSize }, async (_, i) => {
      const name = `${o.prefix}pool-${i}`;
      return { name, rv: await createConfigMap(client, name, o.payloadBytes), gen: 0 };
    }),
  );
  return openLoop({
    perSecond: o.perSecond,
    seconds: o.seconds,
    drainSeconds: DRAIN_SECONDS,
    op: async (i) => {
      if (i % 2 === 0) {
        await createConfigMap(client, `${o.prefix}${i}`, o.payloadBytes);
        return;
      }
      const obj = pool[(i >> 1) % poolSize];
      obj.gen++;
      obj.rv = rvOf(await ok(client, 'PUT', `${CM_PATH}/${obj.name}`, configMap(obj.name, o.payloadBytes, obj.gen, obj.rv)));
    },
  });
}

/** Creates `count` objects with FILL_CONCURRENCY clients; returns the create stats. */
export async function fill(client: ApiClient, o: { count: number; maxSeconds: number; make: (i: number) => [string, unknown] }): Promise<Stats> {
  const perWorker = Math.ceil(o.count / FILL_CONCURRENCY);
  return closedLoop({
    concurrency: FILL_CONCURRENCY,
    perWorker,
    maxSeconds: o.maxSeconds,
    op: async (w, i) => {
      const n = w * perWorker + i;
      if (n >= o.count) return;
      const [path, body] = o.make(n);
      await ok(client, 'POST', path, body);
    },
  });
}

export const fillPods = (client: ApiClient, count: number, maxSeconds: number) =>
  fill(client, { count, maxSeconds, make: (i) => [POD_PATH, pod(`p-${i}`)] });

export const fillConfigMaps = (client: ApiClient, count: number, maxSeconds: number, payloadBytes: number) =>
  fill(client, { count, maxSeconds, make: (i) => [CM_PATH, configMap(`fill-${i}`, payloadBytes)] });

export type ListRows = { json: Stats; table: Stats; paged: Stats; items: number };

/** A list's continue token, read from its head: the list metadata comes before the items. */
function continueOf(body: string): string {
  return /"continue":"([^"]*)"/.exec(body.slice(0, LIST_HEAD_CHARS))?.[1] ?? '';
}

/** Times `fetch` (request until the last byte), then checks its answer outside the timing. */
async function timeRuns(runs: number, fetch: () => Promise<string[]>, check: (bodies: string[]) => void): Promise<Stats> {
  const lat: number[] = [];
  let errors = 0;
  for (let r = 0; r < runs; r++) {
    const s = performance.now();
    try {
      const bodies = await fetch();
      lat.push(performance.now() - s);
      check(bodies);
    } catch {
      errors++;
    }
  }
  return { ...summarize(lat, errors, 0), opsPerSec: Number.NaN };
}

/**
 * LIST of every pod as JSON, as a Table, and page by page (limit=LIST_PAGE)
 * through all of them. Times are to the last byte of the (last) response;
 * the client's own JSON parsing is not counted.
 */
export async function apiList(client: ApiClient, o: { items: number; runs: number }): Promise<ListRows> {
  const count = (bodies: string[], field: 'items' | 'rows', what: string) => {
    const n = bodies.reduce((sum, b) => sum + (JSON.parse(b) as Record<string, unknown[]>)[field].length, 0);
    if (n !== o.items) throw new Error(`${what} returned ${n} items, expected ${o.items}`);
  };
  const json = await timeRuns(o.runs, async () => [(await ok(client, 'GET', POD_PATH)).body], (b) => count(b, 'items', 'LIST'));
  const table = await timeRuns(
    o.runs,
    async () => [(await ok(client, 'GET', POD_PATH, undefined, { Accept: TABLE_ACCEPT })).body],
    (b) => count(b, 'rows', 'LIST as Table'),
  );
  const paged = await timeRuns(
    o.runs,
    async () => {
      const bodies: string[] = [];
      let token = '';
      do {
        const q = `?limit=${LIST_PAGE}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
        const body = (await ok(client, 'GET', `${POD_PATH}${q}`)).body;
        bodies.push(body);
        token = continueOf(body);
      } while (token && bodies.length <= o.items / LIST_PAGE + 1);
      return bodies;
    },
    (b) => count(b, 'items', 'paginated LIST'),
  );
  return { json, table, paged, items: o.items };
}

export type WatchRow = { delivery: Stats; writes: Stats; watchers: number; perSecond: number; missed: number };

/** `watchers` watch streams on the ConfigMaps of the namespace while creates arrive at perSecond. */
export async function apiWatch(client: ApiClient, o: { watchers: number; perSecond: number; seconds: number; payloadBytes: number }): Promise<WatchRow> {
  const total = Math.round(o.perSecond * o.seconds);
  const sentAt = new Float64Array(total);
  const lat: number[] = [];
  const counts = new Array<number>(o.watchers).fill(0);
  const marker = '"name":"wt-';
  const start = JSON.parse((await ok(client, 'GET', `${CM_PATH}?limit=1`)).body).metadata.resourceVersion as string;
  const ac = new AbortController();
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((r) => {
    allDone = r;
  });
  await Promise.all(
    counts.map((_, w) =>
      client.watch(`${CM_PATH}?watch=1&resourceVersion=${start}`, {
        onLine(line, at) {
          const m = line.indexOf(marker);
          if (m < 0) return;
          const i = Number.parseInt(line.slice(m + marker.length, m + marker.length + 12), 10);
          lat.push(at - sentAt[i]);
          if (++counts[w] === total && ++done === o.watchers) allDone();
        },
      }, ac.signal),
    ),
  );
  const writes = await openLoop({
    perSecond: o.perSecond,
    seconds: o.seconds,
    drainSeconds: DRAIN_SECONDS,
    op: async (i) => {
      sentAt[i] = performance.now();
      await createConfigMap(client, `wt-${i}`, o.payloadBytes);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise((r) => { timer = setTimeout(r, DRAIN_SECONDS * 1000); })]);
  clearTimeout(timer);
  ac.abort();
  const missed = counts.reduce((sum, n) => sum + (total - n), 0);
  return { delivery: summarize(lat, missed, o.seconds), writes, watchers: o.watchers, perSecond: o.perSecond, missed };
}
