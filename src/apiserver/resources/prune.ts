// Dropping unknown fields, as decoding into Kubernetes' Go types does: a
// field the schema does not know is never stored.

/** Splits "spec.containers[0].imagee" into ["spec", "containers", 0, "imagee"]. */
export function parseFieldPath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const segment of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(segment);
    if (!m) {
      parts.push(segment);
      continue;
    }
    if (m[1]) parts.push(m[1]);
    for (const index of m[2].matchAll(/\[(\d+)\]/g)) parts.push(Number(index[1]));
  }
  return parts;
}

/** Removes each path from obj (in place); paths that no longer exist are ignored. */
export function removeFieldPaths(obj: Record<string, unknown>, paths: string[]): void {
  for (const path of paths) {
    const parts = parseFieldPath(path);
    let cur: unknown = obj;
    for (const part of parts.slice(0, -1)) {
      if (typeof cur !== 'object' || cur === null) break;
      cur = (cur as Record<string | number, unknown>)[part];
    }
    const last = parts.at(-1);
    if (typeof cur === 'object' && cur !== null && !Array.isArray(cur) && typeof last === 'string') {
      delete (cur as Record<string, unknown>)[last];
    }
  }
}
