// Label selectors as Kubernetes parses and matches them (apimachinery
// pkg/labels), label/annotation validation for object metadata.
import { errors } from './errors.ts';
import { child, fieldErrors, formatBadValue, goStringSlice, key } from './field-errors.ts';
import { isQualifiedName, isValidLabelValue } from './names.ts';
import type { StatusCause } from './types.ts';

export type Operator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

/** One requirement; `values` is sorted and de-duplicated, as Kubernetes keeps it. */
export type Requirement = { key: string; operator: Operator; values: string[] };
export type LabelSelector = Requirement[];

export type LabelSelectorRequirementJson = { key: string; operator: string; values?: string[] };
/** metav1.LabelSelector as JSON. */
export type LabelSelectorJson = {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirementJson[];
};

/** Sum of annotation keys and values may not exceed this (Kubernetes' TotalAnnotationSizeLimitB). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

// ---- lexer ---------------------------------------------------------------

type Tok =
  | 'ident'
  | 'end'
  | 'error'
  | '!'
  | '!='
  | '='
  | '=='
  | '>'
  | '<'
  | '('
  | ')'
  | ','
  | 'in'
  | 'notin';

const SPECIAL_TOKENS: Record<string, Tok> = {
  '!': '!',
  '!=': '!=',
  '=': '=',
  '==': '==',
  '>': '>',
  '<': '<',
  '(': '(',
  ')': ')',
  ',': ',',
};
const isSpecial = (ch: string) => '=!(),><'.includes(ch);
const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

type Item = { tok: Tok; lit: string };

function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  while (true) {
    while (pos < input.length && isWhitespace(input[pos])) pos++;
    if (pos >= input.length) {
      items.push({ tok: 'end', lit: '' });
      return items;
    }
    const ch = input[pos];
    if (isSpecial(ch)) {
      // longest run of special characters that still names a token
      let buffer = '';
      let last: Item | undefined;
      while (pos < input.length && isSpecial(input[pos])) {
        const next = buffer + input[pos];
        if (SPECIAL_TOKENS[next]) {
          buffer = next;
          last = { tok: SPECIAL_TOKENS[next], lit: next };
          pos++;
        } else if (last) {
          break;
        } else {
          buffer = next;
          pos++;
        }
      }
      items.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buffer}'` });
      if (!last) return [...items, { tok: 'end', lit: '' }];
      continue;
    }
    let ident = '';
    while (pos < input.length && !isSpecial(input[pos]) && !isWhitespace(input[pos])) ident += input[pos++];
    items.push({ tok: 'ident', lit: ident });
  }
}

// ---- parser ----------------------------------------------------------------

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

class ParseError extends Error {}

function parseSelector(input: string): LabelSelector {
  const items = lex(input);
  let pos = 0;
  // In "key and operator" position the words in/notin are keywords; in values they are identifiers.
  const peek = (keywords = false): Item => keywordize(items[pos], keywords);
  const next = (keywords = false): Item => keywordize(items[pos++] ?? { tok: 'end', lit: '' }, keywords);
  function keywordize(item: Item | undefined, keywords: boolean): Item {
    const it = item ?? { tok: 'end', lit: '' };
    if (keywords && it.tok === 'ident' && (it.lit === 'in' || it.lit === 'notin')) return { tok: it.lit, lit: it.lit };
    return it;
  }

  const requirements: Requirement[] = [];
  while (true) {
    const { tok, lit } = peek();
    if (tok === 'ident' || tok === '!') {
      let r: Requirement;
      try {
        r = parseRequirement();
      } catch (err) {
        throw new ParseError(`unable to parse requirement: ${(err as Error).message}`);
      }
      requirements.push(r);
      const after = next();
      if (after.tok === 'end') return requirements;
      if (after.tok === ',') {
        const t2 = peek();
        if (t2.tok !== 'ident' && t2.tok !== '!') throw new ParseError(`found '${t2.lit}', expected: identifier after ','`);
        continue;
      }
      throw new ParseError(`found '${after.lit}', expected: ',' or 'end of string'`);
    }
    if (tok === 'end') return requirements;
    throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
  }

  function parseRequirement(): Requirement {
    let operator: Operator | undefined;
    let item = next();
    if (item.tok === '!') {
      operator = '!';
      item = next();
    }
    if (item.tok !== 'ident') throw new Error(`found '${item.lit}', expected: identifier`);
    const k = item.lit;
    checkKey(k);
    const la = peek();
    if (la.tok === 'end' || la.tok === ',') return makeRequirement(k, operator ?? 'exists', []);
    if (operator === '!') throw new Error(`found '${la.lit}', expected: ',' or 'end of string'`);
    const opItem = next(true);
    const ops: Partial<Record<Tok, Operator>> = { in: 'in', notin: 'notin', '=': '=', '==': '==', '!=': '!=', '>': 'gt', '<': 'lt' };
    const op = ops[opItem.tok];
    if (!op) throw new Error(`found '${opItem.lit}', expected: ${BINARY_OPERATORS.join(', ')}`);
    const values = op === 'in' || op === 'notin' ? parseValues() : parseExactValue();
    return makeRequirement(k, op, values);
  }

  function parseValues(): string[] {
    const open = next();
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const la = peek();
    if (la.tok === 'ident' || la.tok === ',') {
      const set = parseIdentifiersList();
      const close = next();
      if (close.tok !== ')') throw new Error(`found '${la.lit}', expected: ')'`);
      return set;
    }
    if (la.tok === ')') {
      next();
      return [''];
    }
    throw new Error(`found '${la.lit}', expected: ',', ')' or identifier`);
  }

  function parseIdentifiersList(): string[] {
    const set = new Set<string>();
    while (true) {
      const item = next();
      if (item.tok === 'ident') {
        set.add(item.lit);
        const la = peek();
        if (la.tok === ',') continue;
        if (la.tok === ')') return [...set];
        throw new Error(`found '${la.lit}', expected: ',' or ')'`);
      }
      if (item.tok === ',') {
        if (set.size === 0) set.add('');
        const la = peek();
        if (la.tok === ')') {
          set.add('');
          return [...set];
        }
        if (la.tok === ',') {
          next();
          set.add('');
        }
        continue;
      }
      throw new Error(`found '${item.lit}', expected: ',', or identifier`);
    }
  }

  function parseExactValue(): string[] {
    const la = peek();
    if (la.tok === 'end' || la.tok === ',') return [''];
    const item = next();
    if (item.tok === 'ident') return [item.lit];
    throw new Error(`found '${item.lit}', expected: identifier`);
  }
}

// The parser validates keys with a nil field path, which Go prints as "<nil>".
function checkKey(k: string, path = '<nil>'): void {
  const errs = isQualifiedName(k);
  if (errs.length) throw new Error(`${path}: Invalid value: ${formatBadValue(k)}: ${errs.join('; ')}`);
}

/** NewRequirement: validates and normalizes (sorted unique values). Throws a plain Error with field-style text. */
function makeRequirement(k: string, operator: Operator, rawValues: string[], path = ''): Requirement {
  const values = [...new Set(rawValues)].sort();
  const problems: string[] = [];
  const keyErrs = isQualifiedName(k);
  if (keyErrs.length) problems.push(`${child(path, 'key')}: Invalid value: ${formatBadValue(k)}: ${keyErrs.join('; ')}`);
  const vp = child(path, 'values');
  const bad = (msg: string) => problems.push(`${vp}: Invalid value: ${goStringSlice(values).goLiteral}: ${msg}`);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) bad("for 'in', 'notin' operators, values set can't be empty");
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) bad('exact-match compatibility requires one single value');
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) bad('values set must be empty for exists and does not exist');
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) bad("for 'Gt', 'Lt' operators, exactly one value is required");
      values.forEach((v, i) => {
        if (!/^[-+]?\d+$/.test(v))
          problems.push(`${vp}[${i}]: Invalid value: ${formatBadValue(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
  }
  values.forEach((v, i) => {
    const errs = isValidLabelValue(v);
    if (errs.length) problems.push(`${key(`${vp}[${i}]`, k)}: Invalid value: ${formatBadValue(v)}: ${errs.join('; ')}`);
  });
  if (problems.length) throw new Error(problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`);
  return { key: k, operator, values };
}

// ---- public API ------------------------------------------------------------

/** Parses a selector string like `app=web,tier in (a,b),!legacy`. Throws errors.badRequest. */
export function parseLabelSelector(input: string): LabelSelector {
  try {
    return sortRequirements(parseSelector(input));
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
}

function sortRequirements(reqs: Requirement[]): Requirement[] {
  return [...reqs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function requirementMatches(r: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value as string);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^[-+]?\d+$/.test(value as string)) return false;
      const lv = Number(value);
      const rv = Number(r.values[0]);
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

/** Every requirement must hold (comma is AND). An empty selector matches everything. */
export function matchesSelector(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  return selector.every((r) => requirementMatches(r, labels));
}

/**
 * metav1.LabelSelector → requirements (LabelSelectorAsSelector). `null`/undefined selects nothing
 * in Kubernetes; callers decide, this returns undefined for it. Throws errors.badRequest when invalid.
 */
export function labelSelectorToRequirements(sel: LabelSelectorJson | null | undefined): LabelSelector | undefined {
  if (sel === null || sel === undefined) return undefined;
  const reqs: Requirement[] = [];
  try {
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push(makeRequirement(k, '=', [v]));
    for (const expr of sel.matchExpressions ?? []) {
      const ops: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };
      const op = ops[expr.operator];
      if (!op) throw new Error(`${goQuoteOp(expr.operator)} is not a valid label selector operator`);
      reqs.push(makeRequirement(expr.key, op, expr.values ?? []));
    }
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
  return sortRequirements(reqs);
}
const goQuoteOp = (op: string) => `"${op}"`;

/** Canonical string form (Selector.String()): requirements sorted by key. */
export function selectorToString(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.operator) {
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.operator} (${r.values.join(',')})`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
        default:
          return `${r.key}${r.operator}${r.values[0] ?? ''}`;
      }
    })
    .join(',');
}

/** metav1.FormatLabelSelector: "<none>" for empty, "<error>" for invalid. */
export function formatLabelSelector(sel: LabelSelectorJson | null | undefined): string {
  if (!sel) return '<none>';
  try {
    const reqs = labelSelectorToRequirements(sel) ?? [];
    const s = selectorToString(reqs);
    return s === '' ? '<none>' : s;
  } catch {
    return '<error>';
  }
}

/** labels.FormatLabels: sorted `k=v,k2=v2`, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${(labels as Record<string, string>)[k]}`).join(',');
}

/** A selector that is exactly these labels (labels.SelectorFromSet). */
export function selectorFromSet(labels: Record<string, string>): LabelSelector {
  return sortRequirements(Object.entries(labels).map(([k, v]) => ({ key: k, operator: '=' as Operator, values: [v] })));
}

// ---- validation of metadata.labels / annotations ---------------------------

export function validateLabelName(name: string, fieldPath: string): StatusCause[] {
  return isQualifiedName(name).map((msg) => fieldErrors.invalid(fieldPath, name, msg));
}

/** metav1validation.ValidateLabels: keys are qualified names, values label values; both reported at fieldPath. */
export function validateLabels(labels: Record<string, string> | undefined, fieldPath: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    causes.push(...validateLabelName(k, fieldPath));
    if (typeof v !== 'string') {
      causes.push(fieldErrors.invalid(fieldPath, String(v), 'label values must be strings'));
      continue;
    }
    for (const msg of isValidLabelValue(v)) causes.push(fieldErrors.invalid(fieldPath, v, msg));
  }
  return causes;
}

/** ValidateAnnotations: keys are qualified names (checked lowercased), total size at most 256 KiB. */
export function validateAnnotations(annotations: Record<string, string> | undefined, fieldPath: string): StatusCause[] {
  const causes: StatusCause[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const msg of isQualifiedName(k.toLowerCase())) causes.push(fieldErrors.invalid(fieldPath, k, msg));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) causes.push(fieldErrors.tooLong(fieldPath, TOTAL_ANNOTATION_SIZE_LIMIT));
  return causes;
}

/** ValidateLabelSelector for metav1.LabelSelector fields in specs. */
export function validateLabelSelector(sel: LabelSelectorJson | null | undefined, fieldPath: string): StatusCause[] {
  if (!sel) return [];
  const causes: StatusCause[] = [];
  (sel.matchExpressions ?? []).forEach((expr, i) => {
    const p = `${child(fieldPath, 'matchExpressions')}[${i}]`;
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          causes.push(fieldErrors.required(child(p, 'values'), 'must be specified when `operator` is \'In\' or \'NotIn\''));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          causes.push(fieldErrors.forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        causes.push(fieldErrors.invalid(child(p, 'operator'), expr.operator, 'not a valid selector operator'));
    }
    causes.push(...validateLabelName(expr.key ?? '', child(p, 'key')));
  });
  causes.push(...validateLabels(sel.matchLabels, child(fieldPath, 'matchLabels')));
  return causes;
}
