// Cron schedules as Kubernetes' CronJob controller reads them (robfig/cron's
// standard parser): five fields (minute hour day-of-month month day-of-week)
// with names, ranges, lists and steps; the @yearly … @hourly descriptors and
// @every <duration>. next() walks forward as robfig does, in the schedule's
// IANA time zone: a time skipped by a DST jump does not run that day, a time
// that happens twice (DST ends) runs twice.

export type CronSchedule = { next(after: Date): Date | undefined };

type Bounds = { min: number; max: number; names?: Record<string, number> };

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: Object.fromEntries(MONTH_NAMES.map((n, i) => [n, i + 1])) },
  { min: 0, max: 6, names: Object.fromEntries(DAY_NAMES.map((n, i) => [n, i])) },
];
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
/** robfig gives up looking for a matching time this many years ahead (e.g. "0 0 30 2 *" never matches). */
const SEARCH_YEARS = 5;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** One field's allowed values, and whether it was written as * or ? (matters for the day-of-month/day-of-week rule). */
type Field = { values: Set<number>; star: boolean };
type Spec = { minute: Field; hour: Field; dom: Field; month: Field; dow: Field; zone: string };

export class CronSyntaxError extends Error {}

function parseValue(text: string, bounds: Bounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(text)) throw new CronSyntaxError(`failed to parse int from ${text}`);
  return Number(text);
}

function parseRange(expr: string, bounds: Bounds): Field {
  const [rangePart, stepPart, ...extraSlash] = expr.split('/');
  if (extraSlash.length > 0) throw new CronSyntaxError(`too many slashes: ${expr}`);
  const lowHigh = rangePart.split('-');
  let star = false;
  let start: number;
  let end: number;
  if (lowHigh[0] === '*' || lowHigh[0] === '?') {
    [start, end, star] = [bounds.min, bounds.max, true];
  } else {
    if (lowHigh.length > 2) throw new CronSyntaxError(`too many hyphens: ${expr}`);
    start = parseValue(lowHigh[0], bounds);
    end = lowHigh.length === 2 ? parseValue(lowHigh[1], bounds) : start;
  }
  let step = 1;
  if (stepPart !== undefined) {
    if (!/^\d+$/.test(stepPart)) throw new CronSyntaxError(`failed to parse int from ${stepPart}`);
    step = Number(stepPart);
    if (lowHigh.length === 1) end = bounds.max; // "N/step" means N-max/step
    if (step > 1) star = false; // "*/2" restricts the field
  }
  if (start < bounds.min) throw new CronSyntaxError(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  if (end > bounds.max) throw new CronSyntaxError(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  if (start > end) throw new CronSyntaxError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronSyntaxError(`step of range should be a positive number: ${expr}`);
  const values = new Set<number>();
  for (let v = start; v <= end; v += step) values.add(v);
  return { values, star };
}

function parseField(text: string, bounds: Bounds): Field {
  const field: Field = { values: new Set(), star: false };
  for (const part of text.split(',')) {
    const one = parseRange(part, bounds);
    for (const v of one.values) field.values.add(v);
    field.star ||= one.star;
  }
  return field;
}

/** Go's time.ParseDuration for what @every takes ("1h30m", "90s", "1.5h"); milliseconds. */
export function parseGoDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: SECOND, m: MINUTE, h: HOUR };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  if (text === '0') return 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== text.length || text.length === 0) throw new CronSyntaxError(`failed to parse duration ${text}: time: invalid duration "${text}"`);
  return total;
}

/** The process's own zone: Kubernetes uses kube-controller-manager's local time when a CronJob sets no timeZone. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** Parses a CronJob schedule; throws CronSyntaxError with robfig-like messages. */
export function parseSchedule(schedule: string, options: { timeZone?: string } = {}): CronSchedule {
  const zone = options.timeZone ?? localTimeZone();
  zoneFormatter(zone); // throws RangeError for unknown zones
  const text = schedule.trim();
  if (text.startsWith('@every ')) {
    const ms = parseGoDuration(text.slice('@every '.length).trim());
    // robfig: at least one second, whole seconds.
    const delay = Math.max(SECOND, ms - (ms % SECOND));
    return { next: (after) => new Date(after.getTime() - (after.getTime() % SECOND) + delay) };
  }
  const expanded = text.startsWith('@') ? DESCRIPTORS[text] : text;
  if (!expanded) throw new CronSyntaxError(`unrecognized descriptor: ${text}`);
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw new CronSyntaxError(`expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]));
  const spec: Spec = { minute, hour, dom, month, dow, zone };
  return { next: (after) => nextTime(spec, after) };
}

// --- time zone arithmetic (what Go's time.Time with a Location gives robfig) ---

type Local = { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number };

const formatters = new Map<string, Intl.DateTimeFormat>();
function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

function localOf(ms: number, zone: string): Local {
  const parts: Record<string, number> = {};
  for (const p of zoneFormatter(zone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const { year, month, day, hour, minute, second } = parts;
  return { year, month, day, hour, minute, second, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() };
}

/** Offset of the zone from UTC at an instant, in ms. */
function offsetAt(ms: number, zone: string): number {
  const l = localOf(ms, zone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - (ms - (ms % SECOND));
}

/** Go's time.Date: local wall time (fields may overflow) → instant; a skipped wall time lands after the jump. */
function fromLocal(zone: string, year: number, month: number, day: number, hour = 0, minute = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const guess = offsetAt(wall, zone);
  const utc = wall - guess;
  const actual = offsetAt(utc, zone);
  return actual === guess ? utc : wall - actual;
}

function dayMatches(spec: Spec, l: Local): boolean {
  const domMatch = spec.dom.values.has(l.day);
  const dowMatch = spec.dow.values.has(l.weekday);
  // Both restricted: either may match (classic cron); otherwise both must.
  if (spec.dom.star || spec.dow.star) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

/** robfig's SpecSchedule.Next: the first matching whole minute after `after`, or undefined within SEARCH_YEARS. */
function nextTime(spec: Spec, after: Date): Date | undefined {
  const zone = spec.zone;
  let t = after.getTime() - (after.getTime() % SECOND) + SECOND;
  let l = localOf(t, zone);
  let added = false;
  const yearLimit = l.year + SEARCH_YEARS;
  wrap: for (;;) {
    if (l.year > yearLimit) return undefined;
    while (!spec.month.values.has(l.month)) {
      if (!added) {
        added = true;
        t = fromLocal(zone, l.year, l.month, 1);
      }
      l = localOf(t, zone);
      t = fromLocal(zone, l.year, l.month + 1, l.day, l.hour, l.minute);
      l = localOf(t, zone);
      if (l.month === 1) continue wrap;
    }
    while (!dayMatches(spec, l)) {
      if (!added) {
        added = true;
        t = fromLocal(zone, l.year, l.month, l.day);
      }
      l = localOf(t, zone);
      t = fromLocal(zone, l.year, l.month, l.day + 1, l.hour, l.minute);
      l = localOf(t, zone);
      // Midnight may not exist (or be 23:00 the day before) around DST: snap back to the day's start.
      if (l.hour !== 0) {
        t += l.hour > 12 ? (24 - l.hour) * HOUR : -l.hour * HOUR;
        l = localOf(t, zone);
      }
      if (l.day === 1) continue wrap;
    }
    while (!spec.hour.values.has(l.hour)) {
      if (!added) {
        added = true;
        t = fromLocal(zone, l.year, l.month, l.day, l.hour);
      }
      t += HOUR;
      l = localOf(t, zone);
      if (l.hour === 0) continue wrap;
    }
    while (!spec.minute.values.has(l.minute)) {
      if (!added) {
        added = true;
        t -= t % MINUTE;
      }
      t += MINUTE;
      l = localOf(t, zone);
      if (l.minute === 0) continue wrap;
    }
    // Seconds are always 0 in a five-field schedule.
    if (l.second !== 0) {
      if (!added) {
        added = true;
        t -= t % SECOND;
      }
      t += (60 - l.second) * SECOND;
      l = localOf(t, zone);
      continue;
    }
    return new Date(t);
  }
}
