// Pod addresses of one simulated node: host-local IPAM in miniature. A pod
// keeps its address while it exists; freed addresses are reused last.
import { POD_IPS_PER_NODE, podIp } from './objects.ts';

export class IpPool {
  #index: number;
  #byPod = new Map<string, string>();
  #used = new Set<string>();
  #next = 0;

  constructor(nodeIndex: number) {
    this.#index = nodeIndex;
  }

  /** The pod's address: the one it already reports (after a restart), else the next free one. */
  assign(podUid: string, reported?: string): string | undefined {
    const known = this.#byPod.get(podUid);
    if (known) return known;
    let ip = reported && !this.#used.has(reported) ? reported : undefined;
    for (let tries = 0; !ip && tries < POD_IPS_PER_NODE; tries++) {
      const candidate = podIp(this.#index, this.#next);
      this.#next = (this.#next + 1) % POD_IPS_PER_NODE;
      if (!this.#used.has(candidate)) ip = candidate;
    }
    if (!ip) return undefined;
    this.#byPod.set(podUid, ip);
    this.#used.add(ip);
    return ip;
  }

  release(podUid: string): void {
    const ip = this.#byPod.get(podUid);
    if (!ip) return;
    this.#byPod.delete(podUid);
    this.#used.delete(ip);
  }

  get size(): number {
    return this.#byPod.size;
  }
}
