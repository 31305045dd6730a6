// The subset of kubectl's JSONPath that CRD printer columns use: fields
// (.a.b, ['a.b']), indexes ([0], [-1]), slices ([1:3]), wildcards ([*], .*),
// recursive descent (..name) and filters ([?(@.type=="Ready")]). Missing keys
// give no results, as with client-go's AllowMissingKeys(true).
import { isObject } from '../../api/types.ts';

type Step =
  | { op: 'field'; name: string }
  | { op: 'recursive'; name: string }
  | { op: 'index'; index: number }
  | { op: 'slice'; start?: number; end?: number }
  | { op: 'all' }
  | { op: 'filter'; path: Step[]; cmp?: string; literal?: unknown };

const FILTER = /^\?\(@((?:\.[\w-]+|\[[^\]]*\])*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$/;

/** Parses a path like ".status.conditions[?(@.type==\"Ready\")].status"; throws on syntax it does not know. */
export function parseJsonPath(expr: string): Step[] {
  let src = expr.trim();
  if (src.startsWith('{') && src.endsWith('}')) src = src.slice(1, -1);
  const steps: Step[] = [];
  let i = src.startsWith('$') ? 1 : 0;
  while (i < src.length) {
    if (src.startsWith('..', i)) {
      const m = /^[\w-]+/.exec(src.slice(i + 2));
      if (!m) throw new Error(`unrecognized recursive descent at ${i}`);
      steps.push({ op: 'recursive', name: m[0] });
      i += 2 + m[0].length;
    } else if (src[i] === '.') {
      if (src[i + 1] === '*') {
        steps.push({ op: 'all' });
        i += 2;
        continue;
      }
      const m = /^[\w-]*/.exec(src.slice(i + 1))!;
      if (m[0]) steps.push({ op: 'field', name: m[0] });
      i += 1 + m[0].length;
    } else if (src[i] === '[') {
      const close = findClose(src, i);
      steps.push(bracket(src.slice(i + 1, close).trim()));
      i = close + 1;
    } else {
      throw new Error(`unexpected ${JSON.stringify(src[i])} at ${i} in ${expr}`);
    }
  }
  return steps;
}

function findClose(src: string, open: number): number {
  let quote = '';
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ']') return i;
  }
  throw new Error('unclosed [');
}

function bracket(inner: string): Step {
  if (inner === '*') return { op: 'all' };
  if (/^-?\d+$/.test(inner)) return { op: 'index', index: Number(inner) };
  const slice = /^(-?\d*):(-?\d*)$/.exec(inner);
  if (slice)
    return {
      op: 'slice',
      start: slice[1] ? Number(slice[1]) : undefined,
      end: slice[2] ? Number(slice[2]) : undefined,
    };
  const quoted = /^(['"])(.*)\1$/.exec(inner);
  if (quoted) return { op: 'field', name: quoted[2] };
  const f = FILTER.exec(inner);
  if (f) {
    const step: Step = { op: 'filter', path: parseJsonPath(f[1] || '') };
    if (f[2]) {
      step.cmp = f[2];
      step.literal = literal(f[3]);
    }
    return step;
  }
  throw new Error(`unrecognized [${inner}]`);
}

function literal(text: string): unknown {
  const t = text.trim();
  if (/^(['"]).*\1$/.test(t)) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  if (t === 'nil' || t === 'null') return null;
  const n = Number(t);
  if (!Number.isNaN(n)) return n;
  return t;
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v))
    return Object.keys(v)
      .sort()
      .map((k) => v[k]);
  return [];
}

function compare(a: unknown, cmp: string, b: unknown): boolean {
  if (cmp === '==') return a === b;
  if (cmp === '!=') return a !== b;
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  return cmp === '<' ? a < b : cmp === '>' ? a > b : cmp === '<=' ? a <= b : a >= b;
}

function apply(step: Step, v: unknown): unknown[] {
  switch (step.op) {
    case 'field':
      return isObject(v) && step.name in v ? [v[step.name]] : [];
    case 'recursive': {
      const out: unknown[] = [];
      const visit = (x: unknown) => {
        if (isObject(x) && step.name in x) out.push(x[step.name]);
        for (const c of children(x)) visit(c);
      };
      visit(v);
      return out;
    }
    case 'index': {
      if (!Array.isArray(v)) return [];
      const i = step.index < 0 ? v.length + step.index : step.index;
      return i >= 0 && i < v.length ? [v[i]] : [];
    }
    case 'slice':
      return Array.isArray(v) ? v.slice(step.start, step.end) : [];
    case 'all':
      return children(v);
    case 'filter': {
      const out: unknown[] = [];
      for (const item of children(v)) {
        const found = evalSteps(step.path, item);
        if (step.cmp === undefined ? found.length > 0 : found.some((x) => compare(x, step.cmp!, step.literal)))
          out.push(item);
      }
      return out;
    }
  }
}

function evalSteps(steps: Step[], root: unknown): unknown[] {
  let current = [root];
  for (const step of steps) current = current.flatMap((v) => apply(step, v));
  return current;
}

/** All values a parsed path selects in `root`, in document order. */
export function evalJsonPath(steps: Step[], root: unknown): unknown[] {
  return evalSteps(steps, root);
}
