// Which upstream servers cluster DNS forwards to, from its options; apart from
// cluster.ts so that a replica thread can build its forwarder without loading
// the API client.
import type { Logger } from '../lib/log.ts';
import type { ListenAddress } from './server.ts';
import { readResolvConf, type UpstreamServer, UpstreamResolver } from './upstream.ts';

/** "10.0.0.2" or "10.0.0.2:5353" or "[fd00::2]:53" → a server. */
export function parseUpstream(spec: string): UpstreamServer {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracketed) return { address: bracketed[1], port: Number(bracketed[2] ?? 53) };
  const parts = spec.split(':');
  if (parts.length === 2) return { address: parts[0], port: Number(parts[1]) };
  return { address: spec, port: 53 };
}

/** The forwarder for names outside the cluster, per `upstream` (undefined when forwarding is off). */
export function makeUpstream(options: { upstream: boolean | string[]; listen: ListenAddress[]; log?: Logger }): UpstreamResolver | undefined {
  const { log } = options;
  if (options.upstream === false) return undefined;
  const own = options.listen.map((l) => l.address);
  const servers = options.upstream === true ? readResolvConf('/etc/resolv.conf', own) : options.upstream.map(parseUpstream);
  if (servers.length === 0) log?.warn('no upstream DNS servers; names outside the cluster will fail');
  return new UpstreamResolver({ servers, log: log?.child('upstream') });
}

