// Programs the kernel from ServicePorts: remembers what it applied last, so
// an endpoint change becomes a small nft transaction; any failure forgets
// it, so the next sync rebuilds the table whole. nftables, or iptables where
// `nft` is missing.
import { readFileSync } from 'node:fs';
import type { Logger } from '../lib/log.ts';
import { CommandError, hasCommand, run, runIgnoring } from './exec.ts';
import { applyIptables, removeIptables } from './iptables.ts';
import { nftScript, nftStatesEqual } from './nft-script.ts';
import { desiredNftState, NFT_TABLE, type NftOptions, type NftState } from './nft-state.ts';
import type { ServicePort } from './service-ports.ts';

export type ProxyBackend = 'nftables' | 'iptables';

/** bridge-nf-call-iptables: "1" when bridged IPv4 passes netfilter (br_netfilter loaded and on, per network namespace). */
const BRIDGE_NF_CALL = '/proc/sys/net/bridge/bridge-nf-call-iptables';
/** The node bridge pods hang off (the agent's pod network). */
export const DEFAULT_BRIDGE = 'skiff0';
/** Route protocol number marking the service-CIDR route the proxy adds, so reset removes only it. */
const ROUTE_PROTO = '215';

export function detectBackend(): ProxyBackend {
  return hasCommand('nft') || !hasCommand('iptables') ? 'nftables' : 'iptables';
}

/** Whether bridged traffic goes through netfilter here; when not, same-bridge DNAT needs masquerade. */
export function bridgeNetfilterOn(): boolean {
  try {
    return readFileSync(BRIDGE_NF_CALL, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export type RulesOptions = Omit<NftOptions, 'masqueradeBridge'> & {
  backend: ProxyBackend;
  bridge?: string;
  log?: Logger;
};

export class ProxyRules {
  #o: RulesOptions;
  #applied: NftState | undefined;
  #routeChecked = false;

  constructor(options: RulesOptions) {
    this.#o = options;
  }

  /** True while the service-CIDR route still waits for the bridge (the caller syncs again soon). */
  get routePending(): boolean {
    return !this.#routeChecked;
  }

  get backend(): ProxyBackend {
    return this.#o.backend;
  }

  /** Applies `ports`; `full` rewrites everything (else only the difference from the last sync). Returns the nft/iptables script size in lines. */
  async sync(ports: ServicePort[], options: { full?: boolean } = {}): Promise<number> {
    const bridge = this.#o.bridge ?? DEFAULT_BRIDGE;
    const opts: NftOptions = { ...this.#o, masqueradeBridge: bridgeNetfilterOn() ? undefined : bridge };
    if (options.full || !this.#routeChecked)
      this.#routeChecked = await ensureServiceRoute(this.#o.serviceCidr, bridge, this.#o.log);
    if (this.#o.backend === 'iptables') {
      await applyIptables(ports, opts, this.#o.log);
      return ports.length;
    }
    const next = desiredNftState(ports, opts);
    // Nothing changed (a retry for the route, an update that did not touch what the proxy uses): no nft run.
    if (!options.full && this.#applied && nftStatesEqual(next, this.#applied)) return 0;
    const script = nftScript(next, this.#applied, { full: options.full });
    try {
      await run(['nft', '-f', '-'], { input: script });
    } catch (err) {
      this.#applied = undefined;
      throw err;
    }
    this.#applied = next;
    return script.split('\n').length - 1;
  }

  /** Forget the kernel's state: the next sync replaces the whole table. */
  invalidate(): void {
    this.#applied = undefined;
  }
}

/**
 * A node with no default route (an isolated test namespace) cannot even
 * start a connection to a ClusterIP: the route lookup fails before the NAT
 * hook runs. Then route the service CIDR to the pod bridge (the DNAT picks the
 * real path). Returns false when the bridge is not there yet (retried later).
 */
async function ensureServiceRoute(serviceCidr: string | undefined, bridge: string, log?: Logger): Promise<boolean> {
  if (!serviceCidr) return true;
  const probe = serviceCidr.split('/')[0].replace(/\d+$/, (n) => String(Number(n) + 1));
  try {
    await run(['ip', 'route', 'get', probe]);
    return true;
  } catch (err) {
    if (!(err instanceof CommandError && /unreachable/i.test(err.stderr))) throw err;
  }
  try {
    await run(['ip', 'route', 'replace', serviceCidr, 'dev', bridge, 'proto', ROUTE_PROTO]);
    log?.info('no route to the service CIDR: routed it to the pod bridge', { serviceCidr, bridge });
    return true;
  } catch (err) {
    if (err instanceof CommandError && /Cannot find device|does not exist/.test(err.stderr)) return false;
    throw err;
  }
}

/** Removes everything the service proxy programs (nft table, iptables chains, its route); idempotent. For `skiff reset`. */
export async function resetServiceProxy(): Promise<void> {
  if (hasCommand('nft'))
    await runIgnoring(['nft', 'delete', 'table', 'ip', NFT_TABLE], /No such file or directory|does not exist/);
  if (hasCommand('iptables-save')) await removeIptables();
  await runIgnoring(['ip', 'route', 'flush', 'proto', ROUTE_PROTO], /Cannot find|does not exist|Nothing to flush/);
}
