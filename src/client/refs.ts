// The built-in resources components talk to, by name.
import type { ResourceRef } from './client.ts';

const core = (resource: string, namespaced = true): ResourceRef => ({ group: '', version: 'v1', resource, namespaced });
const apps = (resource: string): ResourceRef => ({ group: 'apps', version: 'v1', resource, namespaced: true });

export const refs = {
  namespaces: core('namespaces', false),
  nodes: core('nodes', false),
  pods: core('pods'),
  services: core('services'),
  endpoints: core('endpoints'),
  configmaps: core('configmaps'),
  secrets: core('secrets'),
  serviceaccounts: core('serviceaccounts'),
  events: core('events'),
  deployments: apps('deployments'),
  replicasets: apps('replicasets'),
  statefulsets: apps('statefulsets'),
  daemonsets: apps('daemonsets'),
  controllerrevisions: apps('controllerrevisions'),
  jobs: { group: 'batch', version: 'v1', resource: 'jobs', namespaced: true },
  cronjobs: { group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true },
  ingresses: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', namespaced: true },
} satisfies Record<string, ResourceRef>;
