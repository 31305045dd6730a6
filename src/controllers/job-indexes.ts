// Completion indexes of Indexed Jobs: which index a pod runs, and the
// compressed interval form of status.completedIndexes ("1,3-5,7").
import type { KubeObject } from '../api/types.ts';

/** Annotation and label carrying a pod's completion index (the label since PodIndexLabel, 1.28). */
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

/** The pod's index, or undefined when missing or out of [0, completions). */
export function podIndex(pod: KubeObject, completions: number): number | undefined {
  const text = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const i = Number(text);
  return i < completions ? i : undefined;
}

/** Parses "1,3-5" into a sorted set of indexes below `completions` (malformed parts are skipped). */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (!text) return out;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= to && i < completions; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as Kubernetes does: ascending, consecutive runs of two or more as "a-b". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The first `count` indexes in [0, completions) neither succeeded nor held by a pod. */
export function firstPendingIndexes(completions: number, taken: Set<number>, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}
