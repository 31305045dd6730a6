// Go's JSON forms of the apimachinery types whose protobuf shape differs
// from their JSON shape: Time, MicroTime and Duration.

const NS_PER_MICRO = 1000n;
const NS_PER_MILLI = 1_000_000n;
const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MINUTE = 60n * NS_PER_SECOND;
const NS_PER_HOUR = 60n * NS_PER_MINUTE;

function isoSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new RangeError(`time out of range: ${seconds}s`);
  return date.toISOString().slice(0, 19);
}

/** metav1.Time: RFC 3339 in UTC, whole seconds (Kubernetes drops nanos). */
export function formatTime(seconds: number): string {
  return `${isoSeconds(seconds)}Z`;
}

/** metav1.MicroTime: RFC 3339 in UTC with exactly six fractional digits. */
export function formatMicroTime(seconds: number, nanos: number): string {
  const micros = Math.floor(nanos / 1000);
  return `${isoSeconds(seconds)}.${String(micros).padStart(6, '0')}Z`;
}

/** `n` as a decimal with up to `digits` fractional digits, trailing zeros dropped (Go's fmtFrac). */
function withFraction(value: bigint, unit: bigint, digits: number): string {
  const whole = value / unit;
  const frac = value % unit;
  if (frac === 0n) return String(whole);
  const fracText = String(frac).padStart(digits, '0').replace(/0+$/, '');
  return `${whole}.${fracText}`;
}

/** metav1.Duration: Go's time.Duration.String(), e.g. "30s", "1h0m0s", "1.5s", "100ms". */
export function formatDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const sign = nanoseconds < 0n ? '-' : '';
  const d = nanoseconds < 0n ? -nanoseconds : nanoseconds;
  if (d < NS_PER_MICRO) return `${sign}${d}ns`;
  if (d < NS_PER_MILLI) return `${sign}${withFraction(d, NS_PER_MICRO, 3)}µs`;
  if (d < NS_PER_SECOND) return `${sign}${withFraction(d, NS_PER_MILLI, 6)}ms`;
  const hours = d / NS_PER_HOUR;
  const minutes = (d % NS_PER_HOUR) / NS_PER_MINUTE;
  const seconds = withFraction(d % NS_PER_MINUTE, NS_PER_SECOND, 9);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
