// Field selectors (apimachinery pkg/fields): `metadata.name=x,status.phase!=Running`.
// Only =, == and != exist; comma is AND. Values may escape `\,` `\=` `\\`.
import { errors } from './errors.ts';

export type FieldRequirement = { field: string; operator: '=' | '!='; value: string };
export type FieldSelector = FieldRequirement[];

/** Splits on unescaped commas, keeping escapes for the second pass. */
function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '\\' && i + 1 < input.length) {
      cur += ch + input[++i];
    } else if (ch === ',') {
      terms.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  terms.push(cur);
  return terms;
}

function unescapeValue(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === ',' || ch === '=') throw errors.badRequest(`invalid field selector: unescaped character in value: ${ch}`);
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = raw[++i];
    if (next === undefined || !'\\,='.includes(next)) {
      throw errors.badRequest(`invalid field selector: invalid escape sequence: \\${next ?? ''}`);
    }
    out += next;
  }
  return out;
}

/** Parses a field selector; throws errors.badRequest like Kubernetes' fields.ParseSelector. */
export function parseFieldSelector(input: string): FieldSelector {
  const reqs: FieldSelector = [];
  if (input.trim() === '') return reqs;
  for (const term of splitTerms(input)) {
    if (term === '') continue;
    // Longest operator first, matching the first unescaped occurrence.
    let matched: FieldRequirement | undefined;
    for (let i = 0; i < term.length && !matched; i++) {
      if (term[i] === '\\') {
        i++;
        continue;
      }
      for (const op of ['!=', '==', '='] as const) {
        if (term.startsWith(op, i)) {
          matched = { field: term.slice(0, i), operator: op === '!=' ? '!=' : '=', value: unescapeValue(term.slice(i + op.length)) };
          break;
        }
      }
    }
    if (!matched) throw errors.badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    reqs.push(matched);
  }
  return reqs;
}

/** Every requirement must hold; a missing field compares as "". */
export function matchesFields(selector: FieldSelector, fieldValues: Record<string, string>): boolean {
  return selector.every((r) => {
    const v = fieldValues[r.field] ?? '';
    return r.operator === '=' ? v === r.value : v !== r.value;
  });
}

/** Throws the 400 Kubernetes answers for a field it cannot select on. */
export function checkSupportedFields(selector: FieldSelector, supported: Iterable<string>): void {
  const ok = new Set(supported);
  for (const r of selector) {
    if (!ok.has(r.field)) throw errors.badRequest(`field label not supported: ${r.field}`);
  }
}

/** String form, with values escaped. */
export function fieldSelectorToString(selector: FieldSelector): string {
  return selector.map((r) => `${r.field}${r.operator}${r.value.replace(/([\\,=])/g, '\\$1')}`).join(',');
}

/** The exact value required for `field`, when the selector pins one (e.g. metadata.name=x). */
export function requiresExactMatch(selector: FieldSelector, field: string): string | undefined {
  return selector.find((r) => r.field === field && r.operator === '=')?.value;
}
