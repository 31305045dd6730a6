// CustomResourceDefinition (apiextensions.k8s.io/v1) as skiff reads it. Objects
// arrive as user JSON, so every reader still checks shapes before trusting them.
import type { KubeObject } from '../../api/types.ts';
import type { Schema } from '../schema/types.ts';

export type CrdScale = { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };

export type CrdSubresources = { status?: Record<string, never>; scale?: CrdScale };

export type CrdPrinterColumn = {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
};

export type CrdVersion = {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: CrdSubresources;
  additionalPrinterColumns?: CrdPrinterColumn[];
  selectableFields?: { jsonPath: string }[];
};

export type CrdNames = {
  plural: string;
  singular?: string;
  kind: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
};

export type CrdConversion = { strategy: 'None' | 'Webhook'; webhook?: Record<string, unknown> };

export type CrdSpec = {
  group: string;
  names: CrdNames;
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
  conversion?: CrdConversion;
  preserveUnknownFields?: boolean;
};

export type CrdCondition = {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
};

export type CrdStatus = {
  acceptedNames: CrdNames;
  conditions: CrdCondition[];
  storedVersions: string[];
};

export type CustomResourceDefinition = KubeObject & { spec: CrdSpec; status?: CrdStatus };
