// Probe result handling (the kubelet prober worker's thresholds). Pure.
import { PROBE_DEFAULTS } from './constants.ts';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';
export type ProbeState = { result: ProbeResult; lastOutcome?: 'success' | 'failure'; run: number };

export type ProbeTiming = {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
};

/** The probe's timing fields with core/v1 defaults; liveness and startup must have successThreshold 1. */
export function probeTiming(probe: Partial<ProbeTiming> | undefined, kind: ProbeKind): ProbeTiming {
  const p = {
    ...PROBE_DEFAULTS,
    ...Object.fromEntries(Object.entries(probe ?? {}).filter(([, v]) => typeof v === 'number' && v > 0)),
  } as ProbeTiming;
  if (kind !== 'readiness') p.successThreshold = 1;
  return p;
}

/** Before the first result: live (so nothing restarts early), not ready, not started (kubelet's initial values). */
export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'liveness' ? 'success' : kind === 'readiness' ? 'failure' : 'unknown', run: 0 };
}

/** One more outcome: the result flips only after successThreshold / failureThreshold outcomes in a row. */
export function applyProbeOutcome(
  state: ProbeState,
  ok: boolean,
  timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>,
): ProbeState {
  const outcome = ok ? 'success' : 'failure';
  const run = state.lastOutcome === outcome ? state.run + 1 : 1;
  let result = state.result;
  if (ok && run >= timing.successThreshold) result = 'success';
  if (!ok && run >= timing.failureThreshold) result = 'failure';
  return { result, lastOutcome: outcome, run };
}

/** The Unhealthy event message ("Liveness probe failed: ..."). */
export function unhealthyMessage(kind: ProbeKind, detail: string): string {
  return `${kind[0].toUpperCase()}${kind.slice(1)} probe failed: ${detail}`;
}
