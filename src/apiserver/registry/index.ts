// Every built-in resource the API server serves.
import { customResourceDefinitions } from './apiextensions.ts';
import { appsResources, extensionsResources } from './apps.ts';
import { cronJobs, jobs } from './batch.ts';
import { namespaces, nodes, pods, serviceAccounts } from './core.ts';
import { configMaps, secrets } from './core-config.ts';
import { endpoints, services } from './core-network.ts';
import { leases } from './coordination.ts';
import { endpointSlices } from './discovery.ts';
import { events, eventsV1 } from './events.ts';
import { ingressClasses, ingresses, networkPolicies } from './networking.ts';
import type { ResourceDef } from './types.ts';

export function builtinResources(): ResourceDef[] {
  return [
    namespaces,
    pods,
    services,
    endpoints,
    nodes,
    configMaps,
    secrets,
    events,
    serviceAccounts,
    ...appsResources(),
    ...extensionsResources(),
    jobs,
    cronJobs,
    endpointSlices,
    ingresses,
    ingressClasses,
    networkPolicies,
    leases,
    eventsV1,
    customResourceDefinitions,
  ];
}

export type { ResourceDef, ScaleSubresource, Strategy, TableColumn } from './types.ts';
