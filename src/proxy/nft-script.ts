// Turns NftStates into one `nft -f` transaction: the whole table (first sync,
// periodic resync) or only what changed since the last applied state
// (endpoint churn rewrites a few chains and map elements). The kernel applies
// a transaction atomically, so packets never see a half-updated ruleset. Pure.
import { NFT_TABLE, type NftSet, type NftState } from './nft-state.ts';

/** Elements per `add element` line: long lines parse fine, fewer lines parse faster. */
const ELEMENTS_PER_LINE = 200;

const T = `ip ${NFT_TABLE}`;

function chainDecl(name: string, hook?: string): string {
  return hook ? `add chain ${T} ${name} { ${hook} ; }` : `add chain ${T} ${name}`;
}

function elementLines(verb: 'add' | 'delete', set: string, entries: [string, string][]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < entries.length; i += ELEMENTS_PER_LINE) {
    const chunk = entries.slice(i, i + ELEMENTS_PER_LINE);
    const items = chunk.map(([k, v]) => (verb === 'add' && v ? `${k} : ${v}` : k)).join(', ');
    lines.push(`${verb} element ${T} ${set} { ${items} }`);
  }
  return lines;
}

const sameRules = (a: string[], b: string[]) => a.length === b.length && a.every((r, i) => r === b[i]);

/**
 * The transaction that takes the kernel from `prev` to `next`. Without `prev`
 * (first sync, or after a failure left the kernel's state unknown), the table
 * is deleted and rebuilt inside the same transaction. With `full`, every
 * chain and map is rewritten (the periodic resync that repairs drift) while
 * affinity sets keep their entries.
 */
export function nftScript(next: NftState, prev?: NftState, options: { full?: boolean } = {}): string {
  const out: string[] = [`add table ${T}`];
  if (!prev) out.push(`delete table ${T}`, `add table ${T}`);
  const full = options.full === true || !prev;
  const before: NftState = prev ?? { chains: new Map(), sets: new Map() };

  // Sets whose type/timeout changed are recreated; chains using them are rewritten.
  const respec = new Set<string>();
  for (const [name, set] of next.sets) {
    const old = before.sets.get(name);
    if (old && old.spec !== set.spec) respec.add(name);
  }
  const usesRespec = (rules: string[]) =>
    respec.size > 0 && rules.some((r) => [...respec].some((s) => r.includes(`@${s} `)));

  const dirty: string[] = [];
  for (const [name, chain] of next.chains) {
    const old = before.chains.get(name);
    if (!old) out.push(chainDecl(name, chain.hook));
    if (full || !old || !sameRules(old.rules, chain.rules) || usesRespec(old.rules)) {
      if (old) out.push(`flush chain ${T} ${name}`);
      dirty.push(name);
    }
  }
  const gone = [...before.chains.keys()].filter((name) => !next.chains.has(name));
  for (const name of gone) out.push(`flush chain ${T} ${name}`);

  for (const name of respec) out.push(`delete set ${T} ${name}`);
  for (const [name, set] of next.sets) {
    if (!before.sets.has(name) || respec.has(name)) out.push(`add ${set.kind} ${T} ${name} ${set.spec}`);
  }
  for (const [name, set] of next.sets)
    out.push(...elementChanges(name, set, before.sets.get(name), full && !respec.has(name)));

  for (const name of dirty) for (const rule of next.chains.get(name)!.rules) out.push(`add rule ${T} ${name} ${rule}`);
  for (const name of gone) out.push(`delete chain ${T} ${name}`);
  for (const name of before.sets.keys())
    if (!next.sets.has(name)) out.push(`delete ${before.sets.get(name)!.kind} ${T} ${name}`);
  return `${out.join('\n')}\n`;
}

function elementChanges(name: string, set: NftSet, old: NftSet | undefined, full: boolean): string[] {
  if (!set.elements) return [];
  if (full && old) return [`flush ${set.kind} ${T} ${name}`, ...elementLines('add', name, [...set.elements])];
  const was = old?.elements ?? new Map<string, string>();
  const removed: [string, string][] = [];
  const added: [string, string][] = [];
  for (const [k, v] of was) if (set.elements.get(k) !== v) removed.push([k, v]);
  for (const [k, v] of set.elements) if (was.get(k) !== v) added.push([k, v]);
  return [...elementLines('delete', name, removed), ...elementLines('add', name, added)];
}

/** Whether applying `nftScript(next, prev)` would change anything. */
export function nftStatesEqual(a: NftState, b: NftState): boolean {
  if (a.chains.size !== b.chains.size || a.sets.size !== b.sets.size) return false;
  for (const [name, chain] of a.chains) {
    const other = b.chains.get(name);
    if (!other || other.hook !== chain.hook || !sameRules(other.rules, chain.rules)) return false;
  }
  for (const [name, set] of a.sets) {
    const other = b.sets.get(name);
    if (!other || other.spec !== set.spec || (set.elements?.size ?? -1) !== (other.elements?.size ?? -1)) return false;
    for (const [k, v] of set.elements ?? []) if (other.elements?.get(k) !== v) return false;
  }
  return true;
}
