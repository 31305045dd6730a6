// The fallback where `nft` is missing: the same semantics in iptables, the
// way kube-proxy's iptables mode does it (a chain per Service port choosing an
// endpoint chain with the statistic module, `recent` lists for ClientIP
// affinity). Every sync rewrites skiff's chains in one iptables-restore per
// table (atomic per table); jumps from the built-in chains are added once.
import { createHash } from 'node:crypto';
import type { Logger } from '../lib/log.ts';
import { run, runIgnoring } from './exec.ts';
import { firewallSources, MASQ_MARK, type NftOptions } from './nft-state.ts';
import type { Endpoint, ServicePort } from './service-ports.ts';

const SERVICES = 'SKIFF-PROXY-SERVICES';
const NODEPORTS = 'SKIFF-PROXY-NODEPORTS';
const POSTROUTING = 'SKIFF-PROXY-POSTROUTING';
const MARK_MASQ = 'SKIFF-PROXY-MARK-MASQ';
const FILTER = 'SKIFF-PROXY-FILTER';
const INPUT = 'SKIFF-PROXY-INPUT';
/** Per-Service chains: prefix + 16 hash characters stays under iptables' 28-character limit. */
const CHAIN_HASH_CHARS = 16;
const PER_SERVICE = /^SKIFF-(SVC|LCL|EXT|SEP|FW)-/;

/** TCP gets a reset, the rest ICMP port-unreachable (see reject-chain in nft-state.ts). */
const reject = (sp: ServicePort) => (sp.protocol === 'tcp' ? 'REJECT --reject-with tcp-reset' : 'REJECT');
const chainFor = (prefix: string, text: string) =>
  `SKIFF-${prefix}-${createHash('sha256').update(text).digest('hex').slice(0, CHAIN_HASH_CHARS).toUpperCase()}`;
const svcChain = (sp: ServicePort) => chainFor('SVC', sp.key);
const lclChain = (sp: ServicePort) => chainFor('LCL', sp.key);
const extChain = (sp: ServicePort) => chainFor('EXT', sp.key);
const fwChain = (sp: ServicePort) => chainFor('FW', sp.key);
const sepChain = (sp: ServicePort, e: Endpoint) => chainFor('SEP', `${sp.key}__${e.ip}/${e.port}`);

/** [table, built-in chain, skiff chain, extra match] */
const JUMPS: [string, string, string, string[]][] = [
  ['nat', 'PREROUTING', SERVICES, []],
  ['nat', 'OUTPUT', SERVICES, []],
  ['nat', 'POSTROUTING', POSTROUTING, []],
  ['filter', 'INPUT', INPUT, ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', FILTER, ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'OUTPUT', FILTER, ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'addrtype', '!', '--dst-type', 'LOCAL']],
];
const jumpArgs = (from: string, to: string, extra: string[]) => [
  from,
  ...extra,
  '-m',
  'comment',
  '--comment',
  'skiff service proxy',
  '-j',
  to,
];

function spread(sp: ServicePort, endpoints: Endpoint[], chain: string): string[] {
  const lines: string[] = [];
  if (sp.affinitySeconds !== undefined) {
    for (const e of endpoints) {
      lines.push(
        `-A ${chain} -m recent --name ${sepChain(sp, e)} --rcheck --seconds ${sp.affinitySeconds} --reap -j ${sepChain(sp, e)}`,
      );
    }
  }
  endpoints.forEach((e, i) => {
    const left = endpoints.length - i;
    const chance = left > 1 ? `-m statistic --mode random --probability ${(1 / left).toFixed(10)} ` : '';
    lines.push(`-A ${chain} ${chance}-j ${sepChain(sp, e)}`);
  });
  return lines;
}

/** iptables-restore --noflush input for the nat and filter tables. Pure. */
export function iptablesRestore(
  ports: ServicePort[],
  o: NftOptions,
): { nat: string; filter: string; chains: string[] } {
  const chains = new Set<string>([SERVICES, NODEPORTS, POSTROUTING, MARK_MASQ]);
  const nat: string[] = [];
  const svcRules: string[] = [];
  const filter: string[] = [];
  const input: string[] = [];
  const match = (sp: ServicePort, ip: string) => `-d ${ip}/32 -p ${sp.protocol} -m ${sp.protocol} --dport ${sp.port}`;
  const npMatch = (sp: ServicePort) => `-p ${sp.protocol} -m ${sp.protocol} --dport ${sp.nodePort}`;
  for (const sp of ports) {
    const masqVip = sp.clusterIp ? [`-d ${sp.clusterIp}/32 ! -s ${o.clusterCidr} -j ${MARK_MASQ}`] : [];
    for (const e of new Set([...sp.clusterEndpoints, ...sp.localEndpoints])) {
      const c = sepChain(sp, e);
      chains.add(c);
      const recent = sp.affinitySeconds !== undefined ? `-m recent --name ${c} --set ` : '';
      nat.push(
        `-A ${c} -s ${e.ip}/32 -j ${MARK_MASQ}`,
        `-A ${c} -p ${sp.protocol} ${recent}-j DNAT --to-destination ${e.ip}:${e.port}`,
      );
    }
    if (sp.clusterEndpoints.length > 0) {
      chains.add(svcChain(sp));
      nat.push(...masqVip.map((r) => `-A ${svcChain(sp)} ${r}`), ...spread(sp, sp.clusterEndpoints, svcChain(sp)));
    }
    const hasLocal = sp.localEndpoints.length > 0 && (sp.internalLocal || sp.externalLocal);
    if (hasLocal) {
      chains.add(lclChain(sp));
      nat.push(
        ...(sp.internalLocal ? masqVip.map((r) => `-A ${lclChain(sp)} ${r}`) : []),
        ...spread(sp, sp.localEndpoints, lclChain(sp)),
      );
    }
    const missing = sp.hasEndpoints ? 'DROP' : reject(sp);
    if (sp.clusterIp) {
      const target = sp.internalLocal
        ? hasLocal
          ? lclChain(sp)
          : undefined
        : sp.clusterEndpoints.length > 0
          ? svcChain(sp)
          : undefined;
      if (target) svcRules.push(`-A ${SERVICES} ${match(sp, sp.clusterIp)} -j ${target}`);
      else filter.push(`-A ${FILTER} ${match(sp, sp.clusterIp)} -j ${missing}`);
    }
    if (sp.nodePort === undefined && sp.externalIps.length === 0) continue;
    if (sp.clusterEndpoints.length === 0) {
      for (const ip of sp.externalIps)
        filter.push(`-A ${FILTER} ${match(sp, ip)} -j ${reject(sp)}`, `-A ${INPUT} ${match(sp, ip)} -j ${reject(sp)}`);
      if (sp.nodePort)
        for (const ip of o.nodeIps) input.push(`-A ${INPUT} -d ${ip}/32 ${npMatch(sp)} -j ${reject(sp)}`);
      continue;
    }
    const ext = extChain(sp);
    chains.add(ext);
    if (sp.externalLocal) {
      nat.push(
        `-A ${ext} -s ${o.clusterCidr} -j ${svcChain(sp)}`,
        `-A ${ext} -m addrtype --src-type LOCAL -j ${MARK_MASQ}`,
        `-A ${ext} -m addrtype --src-type LOCAL -j ${svcChain(sp)}`,
        ...(hasLocal ? [`-A ${ext} -j ${lclChain(sp)}`] : []),
      );
      if (!hasLocal) {
        for (const ip of sp.externalIps)
          filter.push(`-A ${FILTER} ${match(sp, ip)} -j DROP`, `-A ${INPUT} ${match(sp, ip)} -j DROP`);
        if (sp.nodePort) for (const ip of o.nodeIps) input.push(`-A ${INPUT} -d ${ip}/32 ${npMatch(sp)} -j DROP`);
      }
    } else {
      nat.push(`-A ${ext} -j ${MARK_MASQ}`, `-A ${ext} -j ${svcChain(sp)}`);
    }
    // loadBalancerSourceRanges (kube-proxy's KUBE-FW-): allowed sources go on to the external chain; the
    // rest leave nat untranslated, still addressed to the LB IP:port, and the filter rules drop them.
    const sources = firewallSources(sp, o.nodeIps);
    const guarded = new Set(sources ? sp.loadBalancerIps : []);
    if (sources) {
      chains.add(fwChain(sp));
      for (const src of sources) nat.push(`-A ${fwChain(sp)} -s ${src.includes('/') ? src : `${src}/32`} -j ${ext}`);
      for (const ip of guarded)
        filter.push(`-A ${FILTER} ${match(sp, ip)} -j DROP`, `-A ${INPUT} ${match(sp, ip)} -j DROP`);
    }
    for (const ip of sp.externalIps)
      svcRules.push(`-A ${SERVICES} ${match(sp, ip)} -j ${guarded.has(ip) ? fwChain(sp) : ext}`);
    if (sp.nodePort) nat.push(`-A ${NODEPORTS} ${npMatch(sp)} -j ${ext}`);
  }
  for (const ip of new Set(o.nodeIps)) svcRules.push(`-A ${SERVICES} -d ${ip}/32 -j ${NODEPORTS}`);
  const post = [
    ...(o.masqueradeBridge
      ? [
          `-A ${POSTROUTING} -s ${o.clusterCidr} -o ${o.masqueradeBridge} -m conntrack --ctstate DNAT -j MASQUERADE --random-fully`,
        ]
      : []),
    `-A ${POSTROUTING} -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A ${POSTROUTING} -j MARK --xor-mark ${MASQ_MARK}`,
    `-A ${POSTROUTING} -j MASQUERADE --random-fully`,
    `-A ${MARK_MASQ} -j MARK --or-mark ${MASQ_MARK}`,
  ];
  const natText = ['*nat', ...[...chains].map((c) => `:${c} - [0:0]`), ...svcRules, ...nat, ...post, 'COMMIT', ''].join(
    '\n',
  );
  const filterText = ['*filter', `:${FILTER} - [0:0]`, `:${INPUT} - [0:0]`, ...filter, ...input, 'COMMIT', ''].join(
    '\n',
  );
  return { nat: natText, filter: filterText, chains: [...chains] };
}

/** skiff's per-Service chains that exist in the kernel's nat table now. */
async function existingServiceChains(): Promise<string[]> {
  const saved = await run(['iptables-save', '-t', 'nat']);
  return saved
    .split('\n')
    .filter((l) => l.startsWith(':SKIFF-'))
    .map((l) => l.slice(1).split(' ')[0])
    .filter((c) => PER_SERVICE.test(c));
}

/** Applies a full iptables sync; deletes per-Service chains no longer wanted. */
export async function applyIptables(ports: ServicePort[], o: NftOptions, log?: Logger): Promise<void> {
  const { nat, filter, chains } = iptablesRestore(ports, o);
  const stale = (await existingServiceChains()).filter((c) => !chains.includes(c));
  // Stale chains are emptied by declaring them, then deleted once nothing jumps to them.
  const natWithStale = stale.length
    ? nat.replace(
        '\nCOMMIT',
        `\n${stale.map((c) => `:${c} - [0:0]`).join('\n')}\n${stale.map((c) => `-X ${c}`).join('\n')}\nCOMMIT`,
      )
    : nat;
  await run(['iptables-restore', '-w', '--noflush'], { input: natWithStale });
  await run(['iptables-restore', '-w', '--noflush'], { input: filter });
  for (const [table, from, to, extra] of JUMPS) {
    try {
      await run(['iptables', '-w', '-t', table, '-C', ...jumpArgs(from, to, extra)]);
    } catch {
      await run(['iptables', '-w', '-t', table, '-I', ...jumpArgs(from, to, extra)]);
      log?.debug('iptables jump added', { table, from, to });
    }
  }
}

/** Removes every skiff proxy chain and jump from iptables; idempotent. */
export async function removeIptables(): Promise<void> {
  for (const [table, from, to, extra] of JUMPS) {
    for (;;) {
      try {
        await run(['iptables', '-w', '-t', table, '-D', ...jumpArgs(from, to, extra)]);
      } catch {
        break;
      }
    }
  }
  for (const table of ['nat', 'filter']) {
    const saved = await runIgnoring(['iptables-save', '-t', table], /can't initialize|does not exist/);
    const mine = saved
      .split('\n')
      .filter((l) => l.startsWith(':SKIFF-PROXY-') || PER_SERVICE.test(l.slice(1)))
      .map((l) => l.slice(1).split(' ')[0]);
    if (mine.length === 0) continue;
    const input = [`*${table}`, ...mine.map((c) => `:${c} - [0:0]`), ...mine.map((c) => `-X ${c}`), 'COMMIT', ''].join(
      '\n',
    );
    await run(['iptables-restore', '-w', '--noflush'], { input });
  }
}
