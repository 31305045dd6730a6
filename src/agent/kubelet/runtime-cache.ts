// The runtime's containers as last seen, grouped by pod, refreshed by a
// relist every second (kubelet's PLEG): a container that changed state puts
// its pod's worker to work.
import { sleep } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import type { ContainerRuntime } from '../types.ts';
import { LABELS, PLEG_RELIST_MS } from './constants.ts';
import { type Instance, instanceFrom } from './model.ts';

export class RuntimeCache {
  #runtime: ContainerRuntime;
  #nodeTag: string;
  #byId = new Map<string, Instance>();

  constructor(options: { runtime: ContainerRuntime; nodeTag: string }) {
    this.#runtime = options.runtime;
    this.#nodeTag = options.nodeTag;
  }

  /** Lists the runtime again; returns the pod uids whose containers changed. */
  async relist(): Promise<Set<string>> {
    const changed = new Set<string>();
    const seen = new Map<string, Instance>();
    for (const state of await this.#runtime.list()) {
      if (state.labels?.[LABELS.node] !== undefined && state.labels[LABELS.node] !== this.#nodeTag) continue;
      const inst = instanceFrom(state);
      if (inst) seen.set(inst.id, inst);
    }
    for (const [id, inst] of seen) {
      const before = this.#byId.get(id);
      if (!before || before.status !== inst.status || before.exitCode !== inst.exitCode) changed.add(inst.podUid);
    }
    for (const [id, inst] of this.#byId) if (!seen.has(id)) changed.add(inst.podUid);
    this.#byId = seen;
    return changed;
  }

  /** Reads one container's state now (after we started or stopped it). */
  async refresh(id: string): Promise<Instance | undefined> {
    const state = await this.#runtime.state(id);
    const inst = state ? instanceFrom(state) : undefined;
    if (inst) this.#byId.set(id, inst);
    else this.#byId.delete(id);
    return inst;
  }

  drop(id: string): void {
    this.#byId.delete(id);
  }

  pod(uid: string): Instance[] {
    return [...this.#byId.values()].filter((i) => i.podUid === uid);
  }

  podUids(): Set<string> {
    return new Set([...this.#byId.values()].map((i) => i.podUid));
  }
}

/** Relists until the signal aborts, telling `onChange` about pods whose containers moved. */
export async function runPleg(
  cache: RuntimeCache,
  onChange: (uid: string) => void,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  while (!signal.aborted) {
    await sleep(PLEG_RELIST_MS, signal);
    if (signal.aborted) return;
    try {
      for (const uid of await cache.relist()) onChange(uid);
    } catch (err) {
      log.debug('runtime relist failed', { err: (err as Error).message });
    }
  }
}
