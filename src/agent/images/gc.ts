// Image garbage collection decisions, as the kubelet's image GC manager makes
// them: above the high threshold of disk use, free enough to get under the
// low threshold, removing unused images least recently used first. Pure.

export type GcImage = { id: string; names: string[]; layers: string[]; lastUsed: string };

export type GcInput = {
  images: GcImage[];
  /** Bytes on disk per layer (diff ID). */
  layerSizes: Record<string, number>;
  /** Image IDs or names that containers use: never removed. */
  inUse: Set<string>;
  capacityBytes: number;
  availableBytes: number;
  highPercent: number;
  lowPercent: number;
};

export type GcPlan = { usagePercent: number; bytesToFree: number; remove: string[]; bytesFreed: number };

export function planImageGc(input: GcInput): GcPlan {
  const { capacityBytes, availableBytes } = input;
  const usagePercent = capacityBytes > 0 ? 100 - Math.floor((availableBytes * 100) / capacityBytes) : 0;
  if (usagePercent < input.highPercent) return { usagePercent, bytesToFree: 0, remove: [], bytesFreed: 0 };
  const bytesToFree = Math.ceil((capacityBytes * (100 - input.lowPercent)) / 100 - availableBytes);
  const used = (img: GcImage) => input.inUse.has(img.id) || img.names.some((n) => input.inUse.has(n));
  const candidates = input.images.filter((img) => !used(img)).sort((a, b) => a.lastUsed.localeCompare(b.lastUsed));
  // Layers stay while any remaining image needs them.
  const refs = new Map<string, number>();
  for (const img of input.images) for (const l of new Set(img.layers)) refs.set(l, (refs.get(l) ?? 0) + 1);
  const remove: string[] = [];
  let bytesFreed = 0;
  for (const img of candidates) {
    if (bytesFreed >= bytesToFree) break;
    remove.push(img.id);
    for (const l of new Set(img.layers)) {
      const left = (refs.get(l) ?? 1) - 1;
      refs.set(l, left);
      if (left === 0) bytesFreed += input.layerSizes[l] ?? 0;
    }
  }
  return { usagePercent, bytesToFree, remove, bytesFreed };
}
