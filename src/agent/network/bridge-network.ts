// The pod network (PodNetwork): one network namespace per pod, bind-mounted
// at <data-dir>/agent/netns/<uid>; a veth pair whose host end is on the node
// bridge (hairpin on) and whose pod end is eth0 with an address from the
// node's podCIDR and a default route via the bridge's gateway address.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.ts';
import type { PodNetwork, PodNetworkStatus } from '../types.ts';
import { CommandError, IpBatcher, runIgnoring } from './exec.ts';
import { HostLocalIpam, type Allocation } from './ipam.ts';
import { createNetns, ensureNetnsDir, ipBatchIn, ipIn, isNetnsMounted, listNetns, releaseNetnsDir, removeNetns } from './netns.ts';
import { DEFAULT_BRIDGE, NO_DEVICE, type NodeNetwork, type NodeNetworkOptions, ensureNodeNetwork, removeNodeNetwork } from './node.ts';

/** The pod's interface name, as every CNI plugin names it. */
const POD_IFNAME = 'eth0';
/** Host-end names: "skv" + 12 hex of the uid's hash = 15 characters, the kernel's limit (IFNAMSIZ - 1). */
const VETH_PREFIX = 'skv';
const VETH_HASH_CHARS = 12;

export const netnsDir = (dataDir: string) => join(dataDir, 'agent', 'netns');
export const ipamPath = (dataDir: string) => join(dataDir, 'agent', 'ipam.json');

/** The host end of the pod's veth: derived from the uid, so teardown finds it after a restart. */
export function hostVethName(uid: string): string {
  return VETH_PREFIX + createHash('sha256').update(uid).digest('hex').slice(0, VETH_HASH_CHARS);
}

/** The `ip -batch` that configures a pod's namespace from inside it (creating eth0 with its peer in the node's namespace). Pure. */
export function podBatch(options: { veth: string; nodeNetns: string; mtu: number; ip: string; prefixLength: number; gateway: string }): string {
  const { veth, nodeNetns, mtu, ip, prefixLength, gateway } = options;
  return [
    `link add ${POD_IFNAME} mtu ${mtu} type veth peer name ${veth} mtu ${mtu} netns ${nodeNetns}`,
    'link set lo up',
    `addr add ${ip}/${prefixLength} dev ${POD_IFNAME}`,
    `link set ${POD_IFNAME} up`,
    `route add default via ${gateway} dev ${POD_IFNAME}`,
    '',
  ].join('\n');
}

/** `ip` lines for the host end: on the bridge, up, hairpin on (a pod reaches itself through a Service VIP). Pure. */
export function hostLines(veth: string, bridge: string): string[] {
  return [`link set dev ${veth} master ${bridge} up`, `link set dev ${veth} type bridge_slave hairpin on`];
}

export type BridgeNetworkOptions = Omit<NodeNetworkOptions, 'podCidr'> & {
  dataDir: string;
  /** The node's spec.podCIDR (from the node-ipam controller). */
  podCidr: string;
  log?: Logger;
};

export class BridgeNetwork implements PodNetwork {
  #options: BridgeNetworkOptions;
  #dir: string;
  #ipam: HostLocalIpam;
  #node: Promise<NodeNetwork> | undefined;
  /** Per-uid tails, so setup and teardown of one pod never interleave. */
  #locks = new Map<string, Promise<unknown>>();
  /** Host-side `ip` commands of concurrent setups and teardowns share processes. */
  #ip = new IpBatcher();

  constructor(options: BridgeNetworkOptions) {
    this.#options = options;
    this.#dir = netnsDir(options.dataDir);
    this.#ipam = new HostLocalIpam({ path: ipamPath(options.dataDir), podCidr: options.podCidr });
  }

  /** The node side (bridge, sysctls, rules), set up on first use; retried after a failure. */
  node(): Promise<NodeNetwork> {
    if (!this.#node) {
      this.#node = (async () => {
        await ensureNetnsDir(this.#dir);
        const node = await ensureNodeNetwork(this.#options);
        this.#options.log?.info('node network ready', { ...node });
        return node;
      })();
      this.#node.catch(() => {
        this.#node = undefined;
      });
    }
    return this.#node;
  }

  setup(pod: { uid: string; namespace: string; name: string }): Promise<PodNetworkStatus> {
    return this.#locked(pod.uid, async () => {
      const node = await this.node();
      const alloc = await this.#ipam.assign(pod.uid);
      const netnsPath = join(this.#dir, pod.uid);
      const veth = hostVethName(pod.uid);
      const status = { netnsPath, ip: alloc.ip, gateway: alloc.gateway, prefixLength: alloc.prefixLength };
      const batch = podBatch({ veth, nodeNetns: `/proc/${process.pid}/ns/net`, mtu: node.mtu, ...alloc });
      if (!(await isNetnsMounted(netnsPath))) {
        try {
          await createNetns(netnsPath, batch);
          await this.#ip.run(hostLines(veth, node.bridge));
        } catch (err) {
          // Leave nothing half-made; the address stays with the pod for the retry.
          await this.#removeLinks(netnsPath, veth).catch(() => {});
          await removeNetns(netnsPath).catch(() => {});
          throw err;
        }
        this.#options.log?.debug('pod network created', { pod: `${pod.namespace}/${pod.name}`, uid: pod.uid, ip: alloc.ip });
        return status;
      }
      // The namespace survived (agent restart): keep it (containers may be in it) and repair what is missing.
      if (!(await this.#podSideHealthy(netnsPath, alloc))) {
        await this.#removeLinks(netnsPath, veth);
        await ipBatchIn(netnsPath, batch);
      }
      await this.#ip.run(hostLines(veth, node.bridge));
      return status;
    });
  }

  teardown(podUid: string): Promise<void> {
    return this.#locked(podUid, async () => {
      const netnsPath = join(this.#dir, podUid);
      await this.#ip.run([`link del dev ${hostVethName(podUid)}`]).catch((err) => {
        if (!(err instanceof CommandError && NO_DEVICE.test(err.stderr))) throw err;
      });
      await removeNetns(netnsPath);
      await this.#ipam.release(podUid);
    });
  }

  list(): Promise<string[]> {
    return listNetns(this.#dir);
  }

  /** eth0 inside the namespace has exactly the pod's address. */
  async #podSideHealthy(netnsPath: string, alloc: Allocation): Promise<boolean> {
    try {
      const out = await ipIn(netnsPath, ['-j', '-4', 'addr', 'show', 'dev', POD_IFNAME]);
      const info = (JSON.parse(out) as { addr_info: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? [];
      return info.length === 1 && info[0].local === alloc.ip && info[0].prefixlen === alloc.prefixLength;
    } catch (err) {
      if (err instanceof CommandError && NO_DEVICE.test(err.stderr)) return false;
      throw err;
    }
  }

  async #removeLinks(netnsPath: string, veth: string): Promise<void> {
    await runIgnoring(['ip', 'link', 'del', 'dev', veth], NO_DEVICE);
    if (await isNetnsMounted(netnsPath)) await runIgnoring(['nsenter', `--net=${netnsPath}`, 'ip', 'link', 'del', 'dev', POD_IFNAME], NO_DEVICE);
  }

  #locked<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(uid) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const tail = mine.catch(() => {});
    this.#locks.set(uid, tail);
    tail.then(() => {
      if (this.#locks.get(uid) === tail) this.#locks.delete(uid);
    });
    return mine;
  }
}

/**
 * For `skiff reset`: removes every pod namespace under the data dir (and its
 * veth), the node bridge, skiff's rules and the address allocations.
 */
export async function resetNodeNetwork(dataDir: string, options: { bridge?: string } = {}): Promise<void> {
  const dir = netnsDir(dataDir);
  for (const uid of await listNetns(dir)) {
    await runIgnoring(['ip', 'link', 'del', 'dev', hostVethName(uid)], NO_DEVICE);
    await removeNetns(join(dir, uid));
  }
  await releaseNetnsDir(dir);
  await removeNodeNetwork({ bridge: options.bridge ?? DEFAULT_BRIDGE });
  await rm(ipamPath(dataDir), { force: true });
  await rm(dir, { recursive: true, force: true });
}
