// Kubernetes' "kube-aware" version priority (apimachinery's
// CompareKubeAwareVersionStrings): GA > beta > alpha, then higher major, then
// higher minor; names that are not v<N>[alpha|beta<M>] sort last, alphabetically.
const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;
const RANK = { alpha: 0, beta: 1, ga: 2 } as const;

function parse(v: string): { major: number; rank: number; minor: number } | undefined {
  const m = KUBE_VERSION.exec(v);
  if (!m) return undefined;
  const type = (m[2] ?? 'ga') as keyof typeof RANK;
  return { major: Number(m[1]), rank: RANK[type], minor: m[3] ? Number(m[3]) : 0 };
}

/** > 0 when a has higher priority than b, < 0 when lower, 0 when equal. */
export function compareKubeAwareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parse(a);
  const pb = parse(b);
  if (!pa && !pb) return a < b ? 1 : -1;
  if (!pa) return -1;
  if (!pb) return 1;
  if (pa.rank !== pb.rank) return pa.rank - pb.rank;
  if (pa.major !== pb.major) return pa.major - pb.major;
  return pa.minor - pb.minor;
}

/** Highest priority first: ["v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]. */
export function sortByVersionPriority(versions: string[]): string[] {
  return [...versions].sort((a, b) => compareKubeAwareVersions(b, a));
}
