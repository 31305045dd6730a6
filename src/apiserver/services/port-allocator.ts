// Node ports (30000-32767 by default): one record per port under
// /registry/skiff/servicenodeports/, so a reservation is an atomic create.
import type { Store } from '../../store/types.ts';
import { RangeAllocator, type RangeSpec, type StaleCheck, recordMeta } from './range-allocator.ts';
import { staticBand } from './ip-allocator.ts';

export const PORT_PREFIX = '/registry/skiff/servicenodeports/';
/** Kubernetes' --service-node-port-range default. */
export const DEFAULT_NODE_PORT_RANGE = { first: 30000, last: 32767 };
/** Static band bounds (Kubernetes' calculateRangeOffset for ports): 1/32 of the range, at least 16, at most 128. */
const PORT_BAND = { min: 16, max: 128, step: 32 };

export type PortRange = { first: number; last: number };

export function portRangeSpec(range: PortRange): RangeSpec {
  const size = range.last - range.first + 1;
  return {
    prefix: PORT_PREFIX,
    size,
    staticBand: staticBand(size, PORT_BAND),
    text: `${range.first}-${range.last}`,
    itemAt: (offset) => String(range.first + offset),
    offsetOf(item) {
      if (!/^\d+$/.test(item)) return undefined;
      const port = Number(item);
      return port >= range.first && port <= range.last ? port - range.first : undefined;
    },
    record: (item, owner, now) => ({
      apiVersion: 'skiff.io/v1',
      kind: 'ServiceNodePort',
      metadata: recordMeta(item, now, {}),
      spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
    }),
  };
}

export function createPortAllocator(options: { store: Store; range?: PortRange; isStale?: StaleCheck; now?: () => Date }): RangeAllocator {
  const spec = portRangeSpec(options.range ?? DEFAULT_NODE_PORT_RANGE);
  return new RangeAllocator({
    store: options.store,
    spec,
    isStale: options.isStale,
    now: options.now,
    messages: {
      allocated: 'provided port is already allocated',
      notInRange: () => `provided port is not in the valid range. The range of valid ports is ${spec.text}`,
      full: 'range is full',
    },
  });
}
