// The pod-template-hash of a Deployment's ReplicaSets (Kubernetes'
// controller.ComputeHash) and template equality ignoring that label
// (deploymentutil.EqualIgnoreHash). Pure.
//
// Kubernetes hashes the Go struct printing of the template (DeepHashObject),
// which no other program can reproduce byte for byte. skiff hashes the
// template's canonical JSON (keys sorted, nulls and empty lists dropped)
// instead, so the hash values differ from a real cluster's, while the
// shape is the same: FNV-32a, the collisionCount mixed in as 8 little-endian
// bytes, the decimal digits mapped into the safe alphabet ("66b6c48dd5").
import type { KubeObject } from '../api/types.ts';

/** The label that ties a ReplicaSet, its selector and its pods to one template (apps.DefaultDeploymentUniqueLabelKey). */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Kubernetes' rand.SafeEncodeString alphabet: no vowels (no words) and no confusable characters. */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

type Json = unknown;

/**
 * A template reduced to what matters for equality: null values and empty
 * lists go (Kubernetes' semantic equality treats nil and empty alike);
 * empty objects stay, since `emptyDir: {}` differs from no emptyDir.
 */
export function normalizeTemplate(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalizeTemplate);
  if (value && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value as Record<string, Json>).sort()) {
      const v = (value as Record<string, Json>)[key];
      if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      out[key] = normalizeTemplate(v);
    }
    return out;
  }
  return value;
}

/** JSON with keys sorted at every level (after normalizeTemplate the insertion order is sorted). */
export function canonicalTemplateJson(template: Json): string {
  return JSON.stringify(normalizeTemplate(template ?? {}));
}

/** FNV-1a, 32 bits (Go's hash/fnv New32a). */
export function fnv32a(bytes: Uint8Array, seed = FNV32_OFFSET): number {
  let hash = seed;
  for (const b of bytes) {
    hash = (hash ^ b) >>> 0;
    hash = Math.imul(hash, FNV32_PRIME) >>> 0;
  }
  return hash;
}

/** rand.SafeEncodeString: every byte mapped into the safe alphabet by its value. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** The pod-template-hash of a template; a collisionCount changes it, so a name collision can be escaped. */
export function computeHash(template: Json, collisionCount?: number): string {
  let hash = fnv32a(new TextEncoder().encode(canonicalTemplateJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    // As Kubernetes: a uint32 little-endian in an 8-byte buffer.
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(bytes, hash);
  }
  return safeEncodeString(String(hash));
}

/** The template without the pod-template-hash label (and without labels at all if that was the only one). */
export function withoutHashLabel(template: Json): Json {
  const t = (template ?? {}) as KubeObject;
  const labels = t.metadata?.labels as Record<string, string> | undefined;
  if (!labels || !(POD_TEMPLATE_HASH_LABEL in labels)) return t;
  const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...rest } = labels;
  return { ...t, metadata: { ...t.metadata, labels: rest } };
}

/** Templates equal apart from the pod-template-hash label (EqualIgnoreHash). */
export function equalIgnoreHash(a: Json, b: Json): boolean {
  const strip = (t: Json) => {
    const n = normalizeTemplate(withoutHashLabel(t)) as { metadata?: { labels?: object; creationTimestamp?: unknown } };
    // An empty label map equals no labels (both are nil-or-empty maps to Go's semantic equality).
    if (n.metadata?.labels && Object.keys(n.metadata.labels).length === 0) delete n.metadata.labels;
    if (n.metadata && Object.keys(n.metadata).length === 0) delete n.metadata;
    return JSON.stringify(n);
  };
  return strip(a) === strip(b);
}

/** Labels plus the hash label (labelsutil.CloneAndAddLabel). */
export function addHashLabel(labels: Record<string, string> | undefined, hash: string): Record<string, string> {
  return { ...(labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
}

/** A LabelSelector plus hash=value in matchLabels (labelsutil.CloneSelectorAndAddLabel). */
export function addHashToSelector(selector: KubeObject['spec'], hash: string): Record<string, unknown> {
  const sel = structuredClone(selector ?? {}) as { matchLabels?: Record<string, string> };
  sel.matchLabels = addHashLabel(sel.matchLabels, hash);
  return sel;
}
