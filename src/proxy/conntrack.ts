// Stale UDP conntrack entries. A UDP "connection" to a VIP keeps its DNAT to
// an endpoint for as long as packets flow, so a client sending every few
// seconds would talk to a deleted pod forever; and a Service that had no
// endpoints leaves entries that carried the rejection. kube-proxy deletes
// both after each sync; so does this, with conntrack(8).
import type { Logger } from '../lib/log.ts';
import { CommandError, hasCommand, run } from './exec.ts';
import type { ServicePort } from './service-ports.ts';

/** conntrack -D exits 1 with this when nothing matched: not an error. */
const NOTHING_DELETED = /0 flow entries have been deleted/;

/** The conntrack -D argument lists that clear what `next` made stale relative to `prev`. Pure. */
export function staleConntrackDeletes(prev: ServicePort[], next: ServicePort[]): string[][] {
  const out: string[][] = [];
  const nextByKey = new Map(next.map((sp) => [sp.key, sp]));
  const prevByKey = new Map(prev.map((sp) => [sp.key, sp]));
  for (const old of prev) {
    if (old.protocol !== 'udp') continue;
    const now = nextByKey.get(old.key);
    const still = new Set(
      [...(now?.clusterEndpoints ?? []), ...(now?.localEndpoints ?? [])].map((e) => `${e.ip}:${e.port}`),
    );
    const gone = [
      ...new Map([...old.clusterEndpoints, ...old.localEndpoints].map((e) => [`${e.ip}:${e.port}`, e])).values(),
    ].filter((e) => !still.has(`${e.ip}:${e.port}`));
    for (const e of gone) {
      for (const vip of [old.clusterIp, ...old.externalIps]) {
        if (vip) out.push(['-p', 'udp', '--orig-dst', vip, '--orig-port-dst', String(old.port), '--dst-nat', e.ip]);
      }
      if (old.nodePort) out.push(['-p', 'udp', '--orig-port-dst', String(old.nodePort), '--dst-nat', e.ip]);
    }
  }
  for (const sp of next) {
    if (sp.protocol !== 'udp' || sp.clusterEndpoints.length === 0) continue;
    const old = prevByKey.get(sp.key);
    if (old && old.clusterEndpoints.length > 0) continue;
    // Newly served: entries made while it had no endpoints (rejected or untranslated) must go.
    for (const vip of [sp.clusterIp, ...sp.externalIps]) {
      if (vip) out.push(['-p', 'udp', '--orig-dst', vip, '--orig-port-dst', String(sp.port)]);
    }
    if (sp.nodePort) out.push(['-p', 'udp', '--orig-port-dst', String(sp.nodePort)]);
  }
  return out;
}

/** Deletes entries; warns once (and keeps going) where conntrack(8) is not installed. */
export function createConntrackCleaner(log?: Logger): (deletes: string[][]) => Promise<void> {
  let warned = false;
  return async (deletes) => {
    if (deletes.length === 0) return;
    if (!hasCommand('conntrack')) {
      if (!warned)
        log?.warn(
          'conntrack not installed: stale UDP flows to removed endpoints are not cleared (apt-get install conntrack)',
        );
      warned = true;
      return;
    }
    for (const args of deletes) {
      try {
        await run(['conntrack', '-D', ...args]);
      } catch (err) {
        if (err instanceof CommandError && (NOTHING_DELETED.test(err.stderr) || err.exitCode === 1)) continue;
        log?.warn('conntrack cleanup failed', { err: (err as Error).message });
      }
    }
  };
}
