// Which Ingresses skiff serves: those of an IngressClass whose controller is
// skiff's, or without a class while one of skiff's classes is the default.
// The default class `skiff` is created through the API when missing.
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { Client, ResourceRef } from '../../client/index.ts';

export const INGRESS_CONTROLLER = 'skiff.dev/ingress';
export const DEFAULT_INGRESS_CLASS = 'skiff';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The class annotation that predates spec.ingressClassName; still honoured by ingress-nginx and Traefik. */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export const INGRESS_CLASSES: ResourceRef = {
  group: 'networking.k8s.io',
  version: 'v1',
  resource: 'ingressclasses',
  namespaced: false,
};

export function isDefaultClass(cls: KubeObject): boolean {
  return cls.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
}

/** Whether skiff serves this Ingress, given every IngressClass. */
export function servesIngress(ing: KubeObject, classes: KubeObject[]): boolean {
  const ours = classes.filter((c) => c.spec?.controller === INGRESS_CONTROLLER);
  const name: string | undefined = ing.spec?.ingressClassName ?? ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (name) return ours.some((c) => c.metadata.name === name);
  return ours.some(isDefaultClass);
}

export function defaultIngressClass(): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: {
      name: DEFAULT_INGRESS_CLASS,
      annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' },
      labels: { 'app.kubernetes.io/managed-by': 'skiff' },
    },
    spec: { controller: INGRESS_CONTROLLER },
  };
}

/** Creates the default IngressClass unless a class of that name exists (a user's edits are kept). */
export async function ensureDefaultIngressClass(client: Client): Promise<boolean> {
  try {
    await client.create(INGRESS_CLASSES, defaultIngressClass(), { fieldManager: 'skiff-ingress' });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.code === 409) return false;
    throw err;
  }
}
