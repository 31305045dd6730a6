// The generic registry: create, read, update and delete of any resource on
// the store, with Kubernetes' object semantics (defaults, conversion,
// validation, generation, optimistic concurrency, finalizers, dry-run).
import { errors } from '../../api/errors.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { validateObjectMeta } from '../../api/validation.ts';
import {
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  type KeyValue,
  type Store,
} from '../../store/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import { decode, encode, objectKey, toStorage, toVersion } from './codec.ts';
import { pendingFinalizers } from './deletion.ts';
import { removeFieldPaths } from './prune.ts';
import type { AdmissionHook, FieldCheck, ManagedFieldsTracker, RequestContext } from './context.ts';
import {
  checkNamespace,
  checkTypeMeta,
  dropEmptyMeta,
  generateName,
  initMeta,
  keepImmutableMeta,
  sameObject,
  specChanged,
} from './meta.ts';

/** A name collision on generateName is retried this often before giving up, as Kubernetes does. */
const GENERATE_NAME_RETRIES = 8;
/** Unconditional updates and patches re-read and retry on a concurrent write this often. */
const CONFLICT_RETRIES = 5;

export type ObjectServiceDeps = {
  store: Store;
  admission: AdmissionHook[];
  fieldCheck?: FieldCheck;
  managedFields?: ManagedFieldsTracker;
  now?: () => Date;
};

export type Mutation = (current: KubeObject) => KubeObject | Promise<KubeObject>;

export class ObjectService {
  #deps: ObjectServiceDeps;
  #now: () => Date;

  constructor(deps: ObjectServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  get store(): Store {
    return this.#deps.store;
  }

  now(): Date {
    return this.#now();
  }

  /** The stored object in storage version, or NotFound. */
  async getStored(def: ResourceDef, namespace: string, name: string): Promise<{ obj: KubeObject; kv: KeyValue }> {
    const kv = await this.#deps.store.get(objectKey(def, namespace, name));
    if (!kv) throw errors.notFound({ group: def.group, resource: def.plural }, name);
    return { obj: decode(kv), kv };
  }

  async get(def: ResourceDef, version: string, namespace: string, name: string): Promise<KubeObject> {
    return toVersion(def, (await this.getStored(def, namespace, name)).obj, version);
  }

  /**
   * Checks unknown fields and types per the request's fieldValidation
   * directive; unknown fields that pass are dropped from obj, never stored.
   */
  checkFields(def: ResourceDef, version: string, obj: KubeObject, ctx: RequestContext): void {
    if (!this.#deps.fieldCheck) return;
    const { unknown, invalid } = this.#deps.fieldCheck({ def, version, obj });
    const cannot = `${def.kind} in version "${version}" cannot be handled as a ${def.kind}`;
    if (invalid.length > 0) {
      throw errors.badRequest(`${cannot}: ${invalid.map((c) => c.message).join(', ')}`, invalid);
    }
    if (unknown.length === 0) return;
    const messages = unknown.map((path) => `unknown field "${path}"`);
    if (ctx.fieldValidation === 'Strict') throw errors.badRequest(`${cannot}: strict decoding error: ${messages.join(', ')}`);
    if (ctx.fieldValidation === 'Warn') ctx.warnings.push(...messages);
    removeFieldPaths(obj, unknown);
  }

  async create(
    def: ResourceDef,
    version: string,
    namespace: string,
    body: KubeObject,
    ctx: RequestContext,
  ): Promise<KubeObject> {
    // The body is the caller's to give: freshly decoded by the HTTP layer, or built by a controller.
    const obj = body;
    checkTypeMeta(def, version, obj);
    checkNamespace(def, namespace, obj);
    this.checkFields(def, version, obj, ctx);
    def.strategy.defaults?.(obj, version);
    const versionCauses = def.strategy.validateIn?.(obj, version, undefined) ?? [];
    const named = Boolean(obj.metadata.name);
    const stored = toStorage(def, obj, version);
    initMeta(def, stored, this.#now());
    dropEmptyMeta(stored);
    def.strategy.prepareForCreate?.(stored);
    this.#validate(def, stored, undefined, versionCauses);
    await this.#admit('create', def, stored, undefined, '', ctx);
    const tracked = this.#track(def, version, undefined, stored, '', ctx);
    if (ctx.dryRun) return toVersion(def, tracked, version);
    for (let attempt = 0; ; attempt++) {
      try {
        const kv = await this.#deps.store.create(objectKey(def, namespace, tracked.metadata.name!), encode(tracked));
        tracked.metadata.resourceVersion = String(kv.modRevision);
        return toVersion(def, tracked, version);
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err;
        if (named || attempt >= GENERATE_NAME_RETRIES) {
          throw errors.alreadyExists({ group: def.group, resource: def.plural }, tracked.metadata.name!);
        }
        // A generated name collided: draw another suffix, as Kubernetes retries.
        tracked.metadata.name = generateName(tracked.metadata.generateName!);
      }
    }
  }

  /**
   * Replaces an object (PUT). The body's resourceVersion, when set, must match
   * the stored one; when empty the update is unconditional.
   */
  async update(
    def: ResourceDef,
    version: string,
    namespace: string,
    name: string,
    body: KubeObject,
    ctx: RequestContext,
    subresource = '',
  ): Promise<KubeObject> {
    const obj = body;
    checkTypeMeta(def, version, obj);
    checkNamespace(def, namespace, obj);
    if (obj.metadata.name !== name) {
      throw errors.badRequest(
        `the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    this.checkFields(def, version, obj, ctx);
    const precondition = obj.metadata.resourceVersion;
    return this.mutate(def, version, namespace, name, ctx, subresource, () => obj, precondition);
  }

  /**
   * Reads the current object in `version`, lets `change` produce the new one,
   * and writes it back guarded by the revision read. Retries on conflict
   * unless the caller pinned a resourceVersion.
   */
  async mutate(
    def: ResourceDef,
    version: string,
    namespace: string,
    name: string,
    ctx: RequestContext,
    subresource: string,
    change: Mutation,
    precondition?: string,
  ): Promise<KubeObject> {
    const gr = { group: def.group, resource: def.plural };
    for (let attempt = 0; ; attempt++) {
      const { obj: oldStored, kv } = await this.getStored(def, namespace, name);
      if (precondition && precondition !== String(kv.modRevision)) {
        throw errors.conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      // A second decode gives `change` its own copy (cheaper than cloning); oldStored stays pristine for comparison.
      const changed = await change(toVersion(def, decode(kv), version));
      const next = await this.#prepareUpdate(def, version, changed, oldStored, subresource, ctx);
      if (sameObject(next, oldStored)) return toVersion(def, oldStored, version);
      if (ctx.dryRun) return toVersion(def, next, version);
      try {
        return toVersion(def, await this.#writeUpdate(def, next, kv), version);
      } catch (err) {
        if (err instanceof RevisionMismatchError && !precondition && attempt < CONFLICT_RETRIES) continue;
        if (err instanceof RevisionMismatchError) {
          throw errors.conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        if (err instanceof KeyNotFoundError) throw errors.notFound(gr, name);
        throw err;
      }
    }
  }

  async #prepareUpdate(
    def: ResourceDef,
    version: string,
    changed: KubeObject,
    oldStored: KubeObject,
    subresource: string,
    ctx: RequestContext,
  ): Promise<KubeObject> {
    const obj = changed;
    def.strategy.defaults?.(obj, version);
    const versionCauses = def.strategy.validateIn?.(obj, version, toVersion(def, oldStored, version)) ?? [];
    let next = toStorage(def, obj, version);
    keepImmutableMeta(next, oldStored);
    dropEmptyMeta(next);
    next = mergeSubresource(def, next, oldStored, subresource);
    if (subresource === '') def.strategy.prepareForUpdate?.(next, oldStored);
    if (next.metadata.generation !== undefined && specChanged(next, oldStored)) {
      next.metadata.generation = (oldStored.metadata.generation ?? 0) + 1;
    }
    // Binding is the one sanctioned change to an otherwise immutable pod spec: validate it as a whole, not as an update.
    this.#validate(def, next, subresource === 'binding' ? undefined : oldStored, versionCauses);
    await this.#admit('update', def, next, oldStored, subresource, ctx);
    return this.#track(def, version, oldStored, next, subresource, ctx);
  }

  /** Writes an update; an object being deleted whose last finalizer went (and whose grace period is over) is removed. */
  async #writeUpdate(def: ResourceDef, next: KubeObject, kv: KeyValue): Promise<KubeObject> {
    const store = this.#deps.store;
    // A deleted object goes once nothing holds it: no finalizers, and no grace period left to run
    // (a pod on a node keeps its grace period until the node agent confirms it stopped).
    const graceLeft = (next.metadata.deletionGracePeriodSeconds ?? 0) > 0;
    if (next.metadata.deletionTimestamp && pendingFinalizers(def, next).length === 0 && !graceLeft) {
      const last = await store.delete(kv.key, kv.modRevision);
      const gone = decode(last);
      return { ...next, metadata: { ...next.metadata, resourceVersion: gone.metadata.resourceVersion } };
    }
    const written = await store.update(kv.key, encode(next), kv.modRevision);
    // What was written is `next` itself: stamp its revision rather than parse it back.
    next.metadata.resourceVersion = String(written.modRevision);
    return next;
  }

  /** Removes an object now, guarded by the revision it was read at. */
  async remove(def: ResourceDef, kv: KeyValue): Promise<KubeObject> {
    try {
      return decode(await this.#deps.store.delete(kv.key, kv.modRevision));
    } catch (err) {
      if (err instanceof KeyNotFoundError) throw errors.notFound({ group: def.group, resource: def.plural }, kv.key);
      throw err;
    }
  }

  /** Stores a changed object (deletion bookkeeping), guarded by the revision read. */
  async replaceStored(def: ResourceDef, next: KubeObject, kv: KeyValue): Promise<KubeObject> {
    return this.#writeUpdate(def, next, kv);
  }

  #validate(def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, extra: StatusCause[]): void {
    const causes = [
      ...validateObjectMeta(obj.metadata, { namespaced: def.namespaced, nameRule: def.strategy.nameRule }),
      ...extra,
      ...(def.strategy.validate?.(obj, old) ?? []),
    ];
    if (causes.length > 0) throw errors.invalid(def.group, def.kind, obj.metadata.name ?? '', causes);
  }

  async #admit(
    operation: 'create' | 'update',
    def: ResourceDef,
    obj: KubeObject,
    old: KubeObject | undefined,
    subresource: string,
    ctx: RequestContext,
  ): Promise<void> {
    for (const hook of this.#deps.admission) await hook({ operation, def, obj, old, subresource, ctx });
  }

  #track(
    def: ResourceDef,
    version: string,
    live: KubeObject | undefined,
    updated: KubeObject,
    subresource: string,
    ctx: RequestContext,
  ): KubeObject {
    const tracker = this.#deps.managedFields;
    if (!tracker || ctx.applying) return updated;
    return tracker({ def, version, live, updated, manager: ctx.fieldManager, subresource, now: this.#now() });
  }
}

/**
 * With a status subresource, the main resource cannot change status and the
 * status subresource can change only status (Kubernetes' status strategies).
 */
function mergeSubresource(def: ResourceDef, next: KubeObject, old: KubeObject, subresource: string): KubeObject {
  if (subresource === 'status') {
    // Shallow: nothing below mutates the old object's nested fields.
    return { ...old, status: next.status, metadata: { ...old.metadata } };
  }
  if (subresource === 'finalize') {
    return { ...old, metadata: { ...old.metadata }, spec: { ...old.spec, finalizers: next.spec?.finalizers ?? [] } };
  }
  if (subresource === '' && def.subresources.status) {
    const merged = { ...next };
    if (old.status === undefined) delete merged.status;
    else merged.status = old.status;
    return merged;
  }
  return next;
}
