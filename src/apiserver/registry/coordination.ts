// coordination.k8s.io/v1 Leases (leader election, node heartbeats).
import { fieldErrors, validateNonnegative } from '../../api/field-errors.ts';
import type { StatusCause } from '../../api/types.ts';
import { age, ageColumn, col } from './helpers.ts';
import type { ResourceDef } from './types.ts';

export const leases: ResourceDef = {
  group: 'coordination.k8s.io',
  kind: 'Lease',
  listKind: 'LeaseList',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: {},
  strategy: {
    validate(obj) {
      const spec = obj.spec ?? {};
      const causes: StatusCause[] = [];
      if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
        causes.push(fieldErrors.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
      }
      causes.push(...validateNonnegative(spec.leaseTransitions, 'spec.leaseTransitions'));
      return causes;
    },
    columns: [col('Holder', 'holderIdentity contains the identity of the holder of a current lease.'), ageColumn()],
    cells: (obj, now) => [obj.spec?.holderIdentity ?? '', age(obj, now)],
  },
};
