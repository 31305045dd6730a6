// A container's environment as the kubelet builds it (makeEnvironmentVariables):
// envFrom first, then env in order (later names win, $(VAR) expanded against
// what came before and the service env), then service-link variables not
// already set. The image's ENV is merged under these by `mergeImageEnv`.
import type { KubeObject } from '../../api/types.ts';
import { expand, mappingFor } from './expand.ts';
import { type PodRuntimeValues, podFieldValue, resourceFieldValue } from './fieldpath.ts';
import { ContainerConfigError, type EnvVar, type Json, type NodeAllocatable, type ObjectGetter } from './types.ts';

/** Kubernetes' IsEnvVarName: letters, digits, '_', '-', '.', not starting with a digit. */
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function isEnvVarName(name: string): boolean {
  return ENV_VAR_NAME.test(name);
}

/** envFrom keys that were skipped, for the kubelet's InvalidEnvironmentVariableNames warning event. */
export type InvalidEnvKeys = { kind: 'ConfigMap' | 'Secret'; namespace: string; name: string; keys: string[] };

export type ResolveEnvOptions = {
  pod: KubeObject;
  container: Json;
  getConfigMap: ObjectGetter;
  getSecret: ObjectGetter;
  nodeName?: string;
  podIP?: string;
  podIPs?: string[];
  hostIP?: string;
  hostIPs?: string[];
  /** Service-link variables (see serviceEnvForPod), lowest precedence. */
  serviceEnv?: EnvVar[];
  /** Limits used by resourceFieldRef when the container sets none. */
  nodeAllocatable?: NodeAllocatable;
};

export type ResolvedEnv = {
  /** NAME=value, in definition order. */
  env: string[];
  vars: EnvVar[];
  /** One entry per envFrom source that had keys which are not valid variable names. */
  invalidKeys: InvalidEnvKeys[];
};

/** The event message Kubernetes records for skipped envFrom keys. */
export function invalidKeysMessage(i: InvalidEnvKeys): string {
  return `Keys [${i.keys.join(', ')}] from the EnvFrom ${i.kind === 'ConfigMap' ? 'configMap' : 'secret'} ${i.namespace}/${i.name} were skipped since they are considered invalid environment variable names.`;
}

function decodeSecretData(secret: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) {
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  // stringData is folded into data by the API server; honour it if a cache holds the raw object.
  for (const [k, v] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) out[k] = v;
  return out;
}

/** ConfigMap data (binaryData too, as text) or decoded Secret data. */
export function objectData(kind: 'ConfigMap' | 'Secret', obj: KubeObject): Record<string, string> {
  if (kind === 'Secret') return decodeSecretData(obj);
  return { ...(obj.data as Record<string, string> | undefined) };
}

type Lookup = { kind: 'ConfigMap' | 'Secret'; get: ObjectGetter };

async function fetchSource(lookup: Lookup, namespace: string, name: string, optional: boolean) {
  const obj = await lookup.get(namespace, name);
  if (obj) return objectData(lookup.kind, obj);
  if (optional) return undefined;
  // The kubelet's watch-based managers name resources in the singular.
  throw new ContainerConfigError(`${lookup.kind === 'ConfigMap' ? 'configmap' : 'secret'} "${name}" not found`);
}

/** Resolves env and envFrom; throws ContainerConfigError for a missing required reference. */
export async function resolveEnv(options: ResolveEnvOptions): Promise<ResolvedEnv> {
  const { pod, container } = options;
  const namespace = pod.metadata.namespace ?? 'default';
  const configMaps: Lookup = { kind: 'ConfigMap', get: options.getConfigMap };
  const secrets: Lookup = { kind: 'Secret', get: options.getSecret };
  const serviceEnv = new Map((options.serviceEnv ?? []).map((e) => [e.name, e.value]));
  const env = new Map<string, string>();
  const mapping = mappingFor(env, serviceEnv);
  const invalidKeys: InvalidEnvKeys[] = [];

  for (const from of (container.envFrom ?? []) as Json[]) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const lookup = from.configMapRef ? configMaps : secrets;
    const data = await fetchSource(lookup, namespace, ref.name ?? '', ref.optional === true);
    if (!data) continue;
    const invalid: string[] = [];
    for (const [key, value] of Object.entries(data)) {
      const name = `${from.prefix ?? ''}${key}`;
      if (!isEnvVarName(name)) invalid.push(name);
      else env.set(name, value);
    }
    if (invalid.length > 0) invalidKeys.push({ kind: lookup.kind, namespace, name: ref.name, keys: invalid.sort() });
  }

  const runtime: PodRuntimeValues = {
    podIP: options.podIP,
    podIPs: options.podIPs,
    hostIP: options.hostIP,
    hostIPs: options.hostIPs,
  };
  const podWithNode = options.nodeName ? { ...pod, spec: { ...pod.spec, nodeName: pod.spec?.nodeName || options.nodeName } } : pod;
  for (const e of (container.env ?? []) as Json[]) {
    let value: string | undefined = e.value ?? '';
    const from = e.valueFrom;
    if (value !== '') {
      value = expand(value!, mapping);
    } else if (from?.fieldRef) {
      value = podFieldValue(podWithNode, from.fieldRef.fieldPath, runtime);
    } else if (from?.resourceFieldRef) {
      const ref = from.resourceFieldRef;
      const target = ref.containerName ? findContainer(pod, ref.containerName) : container;
      value = resourceFieldValue({ container: target, resource: ref.resource, divisor: ref.divisor, allocatable: options.nodeAllocatable });
    } else if (from?.configMapKeyRef || from?.secretKeyRef) {
      value = await keyValue(from.configMapKeyRef ? configMaps : secrets, namespace, from.configMapKeyRef ?? from.secretKeyRef);
      if (value === undefined) continue;
    }
    env.set(e.name, value!);
  }
  for (const [name, value] of serviceEnv) if (!env.has(name)) env.set(name, value);
  const vars = [...env].map(([name, value]) => ({ name, value }));
  return { env: vars.map((v) => `${v.name}=${v.value}`), vars, invalidKeys };
}

function findContainer(pod: KubeObject, name: string): Json {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const found = all.find((c: Json) => c.name === name);
  if (!found) throw new ContainerConfigError(`container "${name}" not found in pod`);
  return found;
}

async function keyValue(lookup: Lookup, namespace: string, ref: Json): Promise<string | undefined> {
  const optional = ref.optional === true;
  const data = await fetchSource(lookup, namespace, ref.name ?? '', optional);
  if (!data) return undefined;
  if (Object.hasOwn(data, ref.key)) return data[ref.key];
  if (optional) return undefined;
  throw new ContainerConfigError(`couldn't find key ${ref.key} in ${lookup.kind} ${namespace}/${ref.name}`);
}

/**
 * The image's ENV with the container's variables over it, as containerd
 * merges them: an overridden name keeps its place, new names follow.
 */
export function mergeImageEnv(imageEnv: string[] | undefined, containerEnv: string[]): string[] {
  const out: string[] = [];
  const index = new Map<string, number>();
  for (const entry of [...(imageEnv ?? []), ...containerEnv]) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const at = index.get(name);
    if (at === undefined) {
      index.set(name, out.length);
      out.push(entry);
    } else {
      out[at] = entry;
    }
  }
  return out;
}
