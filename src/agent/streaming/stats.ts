// Resource usage for `kubectl top`: the node's (from /proc) and each running
// container's (from the runtime's cgroup stats), as a small subset of the
// kubelet's stats/summary. CPU is a rate, so cumulative counters are sampled
// twice and differenced.
import { readFile } from 'node:fs/promises';
import type { KubeObject } from '../../api/types.ts';
import type { StreamingBackend } from './types.ts';

/** Jiffies per second in /proc/stat (USER_HZ, 100 on every Linux ABI skiff runs on). */
const USER_HZ = 100;
/** With no earlier sample, the second one is taken this much later: long enough for a stable rate, short for a prompt answer. */
const FIRST_WINDOW_MS = 250;
/** Samples older than this are too stale to difference against; resample. */
const MAX_WINDOW_MS = 60_000;

export type Usage = { usageNanoCores: number; workingSetBytes: number };
export type Summary = {
  node: { nodeName: string; time: string; window: string } & Usage;
  pods: { namespace: string; name: string; time: string; window: string; containers: ({ name: string } & Usage)[] }[];
};

type Sample = { cpuNanos: number; memory: number; at: number };

export async function nodeSample(): Promise<Sample> {
  const [stat, meminfo] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
  const fields = stat.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = fields[3] + (fields[4] ?? 0);
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  return { cpuNanos: ((total - idle) * 1e9) / USER_HZ, memory: kb('MemTotal') - kb('MemAvailable'), at: Date.now() };
}

/** CPU rate in nanocores between two samples. */
export function rate(prev: Sample, cur: Sample): number {
  const seconds = (cur.at - prev.at) / 1000;
  if (seconds <= 0) return 0;
  return Math.max(0, Math.round((cur.cpuNanos - prev.cpuNanos) / seconds));
}

function runningContainers(pod: KubeObject): { name: string; id: string }[] {
  return (pod.status?.containerStatuses ?? [])
    .filter((s: { state?: { running?: object }; containerID?: string }) => s.state?.running && s.containerID)
    .map((s: { name: string; containerID: string }) => ({ name: s.name, id: s.containerID.replace(/^[a-z]+:\/\//, '') }));
}

/** Keeps the previous samples so each answer is a rate over the time since the last one. */
export class StatsCollector {
  #backend: StreamingBackend;
  #nodeName: string;
  #previous = new Map<string, Sample>();

  constructor(backend: StreamingBackend, nodeName: string) {
    this.#backend = backend;
    this.#nodeName = nodeName;
  }

  async #sampleAll(): Promise<Map<string, Sample>> {
    const samples = new Map<string, Sample>([['', await nodeSample()]]);
    for (const pod of this.#backend.listPods()) {
      for (const c of runningContainers(pod)) {
        const stats = await this.#backend.runtime.stats(c.id).catch(() => undefined);
        if (stats) samples.set(c.id, { cpuNanos: stats.cpuUsageNanos, memory: stats.memoryWorkingSetBytes, at: Date.now() });
      }
    }
    return samples;
  }

  async summary(): Promise<Summary> {
    let current = await this.#sampleAll();
    const now = Date.now();
    const fresh = (key: string) => {
      const p = this.#previous.get(key);
      return p !== undefined && now - p.at <= MAX_WINDOW_MS && now - p.at >= FIRST_WINDOW_MS / 2;
    };
    if (![...current.keys()].every(fresh)) {
      for (const [key, sample] of current) this.#previous.set(key, sample);
      await new Promise((resolve) => setTimeout(resolve, FIRST_WINDOW_MS));
      current = await this.#sampleAll();
    }
    const usage = (key: string): Usage => {
      const cur = current.get(key)!;
      const prev = this.#previous.get(key) ?? cur;
      return { usageNanoCores: rate(prev, cur), workingSetBytes: cur.memory };
    };
    const window = (key: string) => `${Math.max(0, ((current.get(key)?.at ?? 0) - (this.#previous.get(key)?.at ?? 0)) / 1000)}s`;
    const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const summary: Summary = { node: { nodeName: this.#nodeName, time, window: window(''), ...usage('') }, pods: [] };
    for (const pod of this.#backend.listPods()) {
      const containers = runningContainers(pod).filter((c) => current.has(c.id));
      if (containers.length === 0) continue;
      summary.pods.push({
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name ?? '',
        time,
        window: window(containers[0].id),
        containers: containers.map((c) => ({ name: c.name, ...usage(c.id) })),
      });
    }
    this.#previous = current;
    return summary;
  }
}
