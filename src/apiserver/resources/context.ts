// What a write needs to know about the request that makes it.
import type { KubeObject, StatusCause } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';

export type UserInfo = { name: string; uid?: string; groups: string[] };

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export type RequestContext = {
  user: UserInfo;
  dryRun: boolean;
  /** The fieldManager query parameter, or one derived from the User-Agent. */
  fieldManager: string;
  fieldValidation: FieldValidation;
  /** Warnings to return in Warning headers (unknown fields in Warn mode, deprecations). */
  warnings: string[];
  /** Server-side apply already set managedFields; the Update tracker must not touch them. */
  applying?: boolean;
};

export type WriteOperation = 'create' | 'update' | 'delete';

/**
 * Admission: runs on every write after defaults and conversion, in the
 * storage version. May change `obj` (mutating) or throw an ApiError.
 */
export type AdmissionHook = (args: {
  operation: WriteOperation;
  def: ResourceDef;
  obj: KubeObject;
  old: KubeObject | undefined;
  subresource: string;
  ctx: RequestContext;
}) => Promise<void> | void;

/** Field problems found by schema checks: unknown fields (paths) and type errors. */
export type FieldCheck = (args: {
  def: ResourceDef;
  version: string;
  obj: KubeObject;
}) => { unknown: string[]; invalid: StatusCause[] };

/** Tracks field ownership on non-apply writes (metadata.managedFields). */
export type ManagedFieldsTracker = (args: {
  def: ResourceDef;
  version: string;
  live: KubeObject | undefined;
  updated: KubeObject;
  manager: string;
  subresource: string;
  now: Date;
}) => KubeObject;
