// discovery.k8s.io/v1 EndpointSlices.
import { child, fieldErrors, index, validateImmutable } from '../../api/field-errors.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { age, ageColumn, col, type Json, setDefault } from './helpers.ts';
import { PROTOCOLS } from './pod-validation.ts';
import type { ResourceDef } from './types.ts';

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];
/** Kubernetes' limits per slice: 1000 endpoints, 100 ports, 100 addresses per endpoint. */
const MAX_ENDPOINTS = 1000;
const MAX_PORTS = 100;
const MAX_ADDRESSES = 100;
/** kubectl shows three ports/addresses, then "+ N more...". */
const MAX_LISTED = 3;

function listWithMore(items: string[]): string {
  if (items.length === 0) return '<unset>';
  if (items.length <= MAX_LISTED) return items.join(',');
  return `${items.slice(0, MAX_LISTED).join(',')} + ${items.length - MAX_LISTED} more...`;
}

function validateSlice(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!obj.addressType) causes.push(fieldErrors.required('addressType'));
  else if (!ADDRESS_TYPES.includes(obj.addressType)) causes.push(fieldErrors.notSupported('addressType', obj.addressType, ADDRESS_TYPES));
  const endpoints: Json[] = obj.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) causes.push(fieldErrors.tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  endpoints.forEach((e, i) => {
    const ep = index('endpoints', i);
    const addresses: string[] = e.addresses ?? [];
    if (addresses.length === 0) causes.push(fieldErrors.required(child(ep, 'addresses'), 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES) causes.push(fieldErrors.tooMany(child(ep, 'addresses'), addresses.length, MAX_ADDRESSES));
  });
  const ports: Json[] = obj.ports ?? [];
  if (ports.length > MAX_PORTS) causes.push(fieldErrors.tooMany('ports', ports.length, MAX_PORTS));
  ports.forEach((p, i) => {
    const pp = index('ports', i);
    if (p.protocol && !PROTOCOLS.includes(p.protocol)) causes.push(fieldErrors.notSupported(child(pp, 'protocol'), p.protocol, PROTOCOLS));
  });
  if (old) causes.push(...validateImmutable(obj.addressType, old.addressType, 'addressType', obj.addressType ?? ''));
  return causes;
}

export const endpointSlices: ResourceDef = {
  group: 'discovery.k8s.io',
  kind: 'EndpointSlice',
  listKind: 'EndpointSliceList',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: {},
  strategy: {
    defaults(obj) {
      for (const p of obj.ports ?? []) {
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'name', '');
      }
    },
    validate: validateSlice,
    columns: [
      col('AddressType', 'addressType specifies the type of address carried by this EndpointSlice.'),
      col('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
      col('Endpoints', 'endpoints is a list of unique endpoints in this slice.'),
      ageColumn(),
    ],
    cells(obj, now) {
      const ports = (obj.ports ?? []).map((p: Json) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name ? p.name : '*'));
      const addresses = (obj.endpoints ?? []).flatMap((e: Json) => e.addresses ?? []);
      return [obj.addressType ?? '', listWithMore(ports), listWithMore(addresses), age(obj, now)];
    },
  },
};
