// What the API server knows about each resource: names, versions, scope,
// subresources and its strategy (defaults, validation, printing, selectors).
import type { NameRule } from '../../api/names.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';

export type TableColumn = {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0: always shown; >0: only with -o wide. */
  priority: number;
};

export type ScaleSubresource = {
  /** JSON paths inside the object, as CRDs spell them. */
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
};

export type Strategy = {
  /** Fill defaults in the request's version, before conversion to the storage version. */
  defaults?(obj: KubeObject, version: string): void;
  /** Problems only visible in the request's version (before conversion); `old` is in that version too. */
  validateIn?(obj: KubeObject, version: string, old: KubeObject | undefined): StatusCause[];
  /** How metadata.name must look (validateObjectMeta's nameRule); absent means DNS-1123 subdomain. */
  nameRule?: NameRule;
  /** Problems with a new or updated object, one cause per bad field (field like "spec.replicas"). */
  validate?(obj: KubeObject, old: KubeObject | undefined): StatusCause[];
  /** Server-set fields on create (e.g. a pod's status.phase Pending). */
  prepareForCreate?(obj: KubeObject): void;
  /** Server-set fields on update of the main resource. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Table columns for `kubectl get`, after NAME (NAME is added by the server). */
  columns: TableColumn[];
  /** True when `columns`/`cells` carry the Name column themselves (events print it last, wide only). */
  includesNameColumn?: boolean;
  /** One cell per column, in order. `now` is for ages. */
  cells(obj: KubeObject, now: Date): unknown[];
  /** Field selector values beyond metadata.name and metadata.namespace, e.g. {"status.phase": "Running"}. */
  fields?(obj: KubeObject): Record<string, string>;
};

export type ResourceDef = {
  group: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Served versions, preferred first. */
  versions: string[];
  /** The version objects are stored in. */
  storageVersion: string;
  subresources: { status?: boolean; scale?: ScaleSubresource; other?: string[] };
  /** Kinds that cannot be created or changed through the API (e.g. read-only). */
  verbs?: string[];
  strategy: Strategy;
  /**
   * Where objects are stored, when another resource owns the storage (extensions/v1beta1
   * Deployments are apps/v1 Deployments: one set of objects, served under both groups).
   */
  storage?: { group: string; plural: string };
  /** Served from a CustomResourceDefinition (no strategic merge patch, generic printing). */
  custom?: boolean;
  /** Converts between a served version and the storage version; absent when only apiVersion differs. */
  convert?: {
    toStorage(obj: KubeObject, fromVersion: string): KubeObject;
    fromStorage(obj: KubeObject, toVersion: string): KubeObject;
  };
};
