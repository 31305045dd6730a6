// Prints the functions with the most self time in a V8 .cpuprofile (as
// written by `node --cpu-prof`, e.g. `npm run bench -- --server-cpu-prof DIR`),
// and the heaviest callers of each, so hot spots can be named without DevTools.
//   npx node bench/cpuprof-top.ts FILE.cpuprofile [top=25]
import { readFileSync } from 'node:fs';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** Profile frames that are not JavaScript work. */
const IDLE = new Set(['(idle)', '(program)']);

export function topSelfTime(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const label = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, { us: number; callers: Map<string, number> }>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (IDLE.has(node.callFrame.functionName)) {
      idle += us;
      continue;
    }
    const key = label(node.callFrame);
    const entry = fn.get(key) ?? { us: 0, callers: new Map() };
    entry.us += us;
    const p = parent.get(id);
    const caller = p === undefined ? '-' : label(byId.get(p)!.callFrame);
    entry.callers.set(caller, (entry.callers.get(caller) ?? 0) + us);
    fn.set(key, entry);
  }
  const lines = [`total ${(total / 1e6).toFixed(1)} s sampled, ${(((total - idle) / total) * 100).toFixed(0)}% busy`];
  for (const [key, e] of [...fn].sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    const caller = [...e.callers].sort((a, b) => b[1] - a[1])[0][0];
    lines.push(`${((e.us / total) * 100).toFixed(1).padStart(5)}%  ${key}  <- ${caller}`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const [file, top = '25'] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpuprof-top.ts FILE.cpuprofile [top]');
  console.log(topSelfTime(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top)));
}
