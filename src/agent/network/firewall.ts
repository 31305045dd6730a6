// The node's pod-network rules: masquerade for pod traffic leaving the node to
// non-pod destinations, and forward accepts for the bridge (a node whose
// FORWARD policy is DROP, as Docker leaves it, would otherwise drop pod
// traffic). nftables when `nft` exists, else iptables. Every rule lives in a
// table or chains that only skiff owns, so reset removes exactly them.
import { hasCommand, run, runIgnoring } from './exec.ts';

/** nftables table holding every pod-network rule skiff adds. */
export const NFT_TABLE = 'skiff_podnet';
/** iptables chains (nat and filter tables) and the comment on the jumps into them. */
export const IPT_NAT_CHAIN = 'SKIFF-PODNET-POSTROUTING';
export const IPT_FILTER_CHAIN = 'SKIFF-PODNET-FORWARD';
const IPT_JUMP_COMMENT = 'skiff pod network';

export type FirewallMode = 'nft' | 'iptables' | 'none';
export type FirewallRules = { podCidr: string; clusterCidr: string; bridge: string };

/** nftables when available (the kernel here has nf_tables), else iptables, else nothing. */
export function detectFirewall(): FirewallMode {
  if (hasCommand('nft')) return 'nft';
  if (hasCommand('iptables')) return 'iptables';
  return 'none';
}

/** One nft transaction that replaces the whole table (add+delete makes it idempotent). Pure. */
export function nftRuleset(r: FirewallRules): string {
  return `add table ip ${NFT_TABLE}
delete table ip ${NFT_TABLE}
table ip ${NFT_TABLE} {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${r.podCidr} ip daddr != ${r.clusterCidr} oifname != "${r.bridge}" masquerade comment "pod traffic leaving the node"
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${r.bridge}" accept
    oifname "${r.bridge}" ct state established,related accept
  }
}
`;
}

/** iptables-restore --noflush input: declaring a chain flushes it, so re-applying replaces the rules. Pure. */
export function iptablesRestoreInput(r: FirewallRules): string {
  return `*nat
:${IPT_NAT_CHAIN} - [0:0]
-A ${IPT_NAT_CHAIN} -s ${r.podCidr} ! -d ${r.clusterCidr} ! -o ${r.bridge} -j MASQUERADE
COMMIT
*filter
:${IPT_FILTER_CHAIN} - [0:0]
-A ${IPT_FILTER_CHAIN} -i ${r.bridge} -j ACCEPT
-A ${IPT_FILTER_CHAIN} -o ${r.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
`;
}

/** Jumps from the built-in chains into skiff's: [table, built-in chain, skiff chain, -A or -I]. */
const IPT_JUMPS: [table: string, from: string, to: string, how: '-A' | '-I'][] = [
  ['nat', 'POSTROUTING', IPT_NAT_CHAIN, '-A'],
  // Inserted first so it comes before any DROP rule already in FORWARD.
  ['filter', 'FORWARD', IPT_FILTER_CHAIN, '-I'],
];

const jumpArgs = (table: string, from: string, to: string) => ['-t', table, from, '-m', 'comment', '--comment', IPT_JUMP_COMMENT, '-j', to];

export async function applyFirewall(mode: FirewallMode, rules: FirewallRules): Promise<void> {
  if (mode === 'nft') {
    await run(['nft', '-f', '-'], { input: nftRuleset(rules) });
  } else if (mode === 'iptables') {
    await run(['iptables-restore', '-w', '--noflush'], { input: iptablesRestoreInput(rules) });
    for (const [table, from, to, how] of IPT_JUMPS) {
      const [t, tableName, chain, ...rest] = jumpArgs(table, from, to);
      try {
        await run(['iptables', '-w', t, tableName, '-C', chain, ...rest]);
      } catch {
        await run(['iptables', '-w', t, tableName, how, chain, ...rest]);
      }
    }
  }
}

/** Removes skiff's pod-network rules from both nftables and iptables (whichever exist); idempotent. */
export async function removeFirewall(): Promise<void> {
  if (hasCommand('nft')) await runIgnoring(['nft', 'delete', 'table', 'ip', NFT_TABLE], /No such file or directory|does not exist/);
  if (!hasCommand('iptables')) return;
  for (const [table, from, to] of IPT_JUMPS) {
    const [t, tableName, chain, ...rest] = jumpArgs(table, from, to);
    // A jump may have been added more than once (e.g. by two skiff versions); remove them all.
    for (;;) {
      try {
        await run(['iptables', '-w', t, tableName, '-D', chain, ...rest]);
      } catch {
        break;
      }
    }
    await runIgnoring(['iptables', '-w', '-t', table, '-F', to], /No chain|does not exist/);
    await runIgnoring(['iptables', '-w', '-t', table, '-X', to], /No chain|does not exist/);
  }
}
