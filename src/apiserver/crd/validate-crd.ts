// Defaulting and validation of a CustomResourceDefinition itself, with
// Kubernetes' field paths and messages. Like Kubernetes (which validates its
// internal form), a schema/subresources/columns setting that is identical in
// every version is reported under spec.validation / spec.subresources /
// spec.additionalPrinterColumns instead of spec.versions[i].
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { isObject } from '../../api/types.ts';
import { isDNS1035Label as isDns1035Label, isDNS1123Subdomain as isDns1123Subdomain } from '../../api/names.ts';
import { fieldError as fe, goJson, path } from './field-errors.ts';
import { validateCrdSchema } from './structural.ts';
import type { CrdPrinterColumn, CrdSubresources, CrdVersion, CustomResourceDefinition } from './types.ts';

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const DEPRECATION_WARNING_MAX = 256;

/** Fills Kubernetes' defaults in place (singular, listKind, conversion None) and returns the CRD. */
export function defaultCrd<T extends CustomResourceDefinition>(crd: T): T {
  const spec = crd.spec;
  if (!isObject(spec)) return crd;
  if (isObject(spec.names)) {
    const names = spec.names;
    if (!names.singular && typeof names.kind === 'string') names.singular = names.kind.toLowerCase();
    if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  }
  if (!spec.conversion) spec.conversion = { strategy: 'None' };
  return crd;
}

/** Semantic equality as apimachinery's: absent, null and empty lists/objects are the same. */
function norm(v: unknown): string {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return 'null';
  return goJson(v);
}

function identical(versions: CrdVersion[], pick: (v: CrdVersion) => unknown): boolean {
  return versions.every((v) => norm(pick(v)) === norm(pick(versions[0])));
}

/**
 * All problems with a (defaulted) CRD, as 422 causes. The name must be
 * "<plural>.<group>"; generic ObjectMeta checks are the server's.
 */
export function validateCrd(input: KubeObject): StatusCause[] {
  const crd = input as CustomResourceDefinition;
  const errs: StatusCause[] = [];
  const spec = isObject(crd.spec) ? crd.spec : ({} as CustomResourceDefinition['spec']);
  const names = isObject(spec.names) ? spec.names : ({} as CustomResourceDefinition['spec']['names']);
  const versions: CrdVersion[] = Array.isArray(spec.versions) ? (spec.versions.filter(isObject) as CrdVersion[]) : [];
  const name = crd.metadata?.name ?? '';
  if (name !== `${names.plural ?? ''}.${spec.group ?? ''}`) {
    errs.push(fe.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }

  if (!spec.group) errs.push(fe.required('spec.group'));
  else {
    const bad = isDns1123Subdomain(spec.group);
    if (bad.length) errs.push(fe.invalid('spec.group', spec.group, bad.join(',')));
    else if (spec.group.split('.').length < 2)
      errs.push(fe.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(fe.required('spec.scope'));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced')
    errs.push(fe.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));

  const sameSchema = versions.length > 0 && identical(versions, (v) => v.schema);
  const sameSubresources = versions.length > 0 && identical(versions, (v) => v.subresources);
  const sameColumns = versions.length > 0 && identical(versions, (v) => v.additionalPrinterColumns);
  if (!(sameSchema && versions[0]?.schema?.openAPIV3Schema)) {
    versions.forEach((v, i) => {
      if (!isObject(v.schema?.openAPIV3Schema)) errs.push(fe.required(`spec.versions[${i}].schema.openAPIV3Schema`));
    });
  }

  let storageCount = 0;
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    if (v.storage === true) storageCount++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const bad = isDns1035Label(String(v.name ?? ''));
    if (bad.length) errs.push(fe.invalid(`${at}.name`, v.name ?? '', bad.join(',')));
    errs.push(...deprecationWarning(v, at));
    if (!sameSchema && isObject(v.schema?.openAPIV3Schema)) {
      errs.push(
        ...validateCrdSchema(v.schema.openAPIV3Schema, `${at}.schema.openAPIV3Schema`, {
          statusEnabled: isObject(v.subresources?.status),
        }),
      );
    }
    if (!sameSubresources) errs.push(...subresources(v.subresources, `${at}.subresources`));
    if (!sameColumns)
      (v.additionalPrinterColumns ?? []).forEach((c, j) => {
        errs.push(...column(c, `${at}.additionalPrinterColumns[${j}]`));
      });
  });
  if (!unique) errs.push(fe.invalid('spec.versions', versions, 'must contain unique version names'));
  if (storageCount !== 1)
    errs.push(fe.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));

  for (const key of ['plural', 'singular', 'kind', 'listKind'] as const) {
    if (!names[key]) errs.push(fe.required(`spec.names.${key}`));
  }
  errs.push(...validateNames(names, 'spec.names'));

  const first = versions[0];
  if (sameSchema && isObject(first?.schema?.openAPIV3Schema)) {
    const statusEnabled = versions.some((v) => isObject(v.subresources?.status));
    errs.push(...validateCrdSchema(first.schema.openAPIV3Schema, 'spec.validation.openAPIV3Schema', { statusEnabled }));
  }
  if (sameSubresources) errs.push(...subresources(first?.subresources, 'spec.subresources'));
  if (sameColumns)
    (first?.additionalPrinterColumns ?? []).forEach((c, j) => {
      errs.push(...column(c, `spec.additionalPrinterColumns[${j}]`));
    });
  errs.push(...conversion(spec.conversion));
  if (spec.preserveUnknownFields === true) {
    errs.push(
      fe.invalid(
        'spec.preserveUnknownFields',
        true,
        'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
      ),
    );
  }
  return errs;
}

function deprecationWarning(v: CrdVersion, at: string): StatusCause[] {
  const w = v.deprecationWarning;
  if (w === undefined || w === null) return [];
  const p = `${at}.deprecationWarning`;
  if (!v.deprecated) return [fe.invalid(p, w, 'can only be set for deprecated versions')];
  const errs: StatusCause[] = [];
  if (w.length > DEPRECATION_WARNING_MAX)
    errs.push(fe.invalid(p, w, `must be <= ${DEPRECATION_WARNING_MAX} characters long`));
  if (w.length === 0) errs.push(fe.invalid(p, w, 'must not be an empty string'));
  const ctl = [...w].findIndex((c) => /\p{C}/u.test(c));
  if (ctl >= 0)
    errs.push(
      fe.invalid(p, w, `must only contain printable UTF-8 characters; non-printable character found at index ${ctl}`),
    );
  return errs;
}

/** spec.names (and status.acceptedNames) rules. */
export function validateNames(names: CustomResourceDefinition['spec']['names'], at: string): StatusCause[] {
  const errs: StatusCause[] = [];
  const mixed = 'may have mixed case, but should otherwise match: ';
  for (const key of ['plural', 'singular'] as const) {
    const v = names[key];
    if (v) {
      const bad = isDns1035Label(v);
      if (bad.length) errs.push(fe.invalid(`${at}.${key}`, v, bad.join(',')));
    }
  }
  for (const key of ['kind', 'listKind'] as const) {
    const v = names[key];
    if (v) {
      const bad = isDns1035Label(v.toLowerCase());
      if (bad.length) errs.push(fe.invalid(`${at}.${key}`, v, mixed + bad.join(',')));
    }
  }
  (names.shortNames ?? []).forEach((s, i) => {
    const bad = isDns1035Label(s);
    if (bad.length) errs.push(fe.invalid(path.index(`${at}.shortNames`, i), s, bad.join(',')));
  });
  if (names.kind && names.kind === names.listKind)
    errs.push(fe.invalid(`${at}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((s, i) => {
    const bad = isDns1035Label(s);
    if (bad.length) errs.push(fe.invalid(path.index(`${at}.categories`, i), s, bad.join(',')));
  });
  return errs;
}

function simpleJsonPath(s: string, at: string): StatusCause[] {
  if (s.length === 0) return [fe.invalid(at, s, 'must not be empty')];
  if (s[0] !== '.') return [fe.invalid(at, s, 'must be a simple json path starting with .')];
  return [];
}

function subresources(sub: CrdSubresources | undefined, at: string): StatusCause[] {
  const scale = sub?.scale;
  if (!isObject(scale)) return [];
  const errs: StatusCause[] = [];
  const check = (value: string | undefined, key: string, prefixes: string[], detail: string) => {
    const p = `${at}.scale.${key}`;
    if (!value) return;
    const bad = simpleJsonPath(value, p);
    if (bad.length) errs.push(...bad);
    else if (!prefixes.some((x) => value.startsWith(x))) errs.push(fe.invalid(p, value, detail));
  };
  if (!scale.specReplicasPath) errs.push(fe.required(`${at}.scale.specReplicasPath`));
  check(scale.specReplicasPath, 'specReplicasPath', ['.spec.'], 'should be a json path under .spec');
  if (!scale.statusReplicasPath) errs.push(fe.required(`${at}.scale.statusReplicasPath`));
  check(scale.statusReplicasPath, 'statusReplicasPath', ['.status.'], 'should be a json path under .status');
  check(
    scale.labelSelectorPath,
    'labelSelectorPath',
    ['.spec.', '.status.'],
    'should be a json path under either .spec or .status',
  );
  return errs;
}

function column(c: CrdPrinterColumn, at: string): StatusCause[] {
  if (!isObject(c)) return [fe.invalid(at, c, 'must be an object')];
  const errs: StatusCause[] = [];
  if (!c.name) errs.push(fe.required(`${at}.name`));
  const types = `must be one of ${COLUMN_TYPES.join(',')}`;
  if (!c.type) errs.push(fe.required(`${at}.type`, types));
  else if (!COLUMN_TYPES.includes(c.type)) errs.push(fe.invalid(`${at}.type`, c.type, types));
  if (c.format && !COLUMN_FORMATS.includes(c.format)) {
    errs.push(fe.invalid(`${at}.format`, c.format, `must be one of ${COLUMN_FORMATS.join(',')}`));
  }
  // "JSONPath" is the internal Go field name Kubernetes reports.
  if (!c.jsonPath) errs.push(fe.required(`${at}.JSONPath`));
  else errs.push(...simpleJsonPath(c.jsonPath, `${at}.JSONPath`));
  return errs;
}

function conversion(conv: CustomResourceDefinition['spec']['conversion']): StatusCause[] {
  if (!isObject(conv)) return [];
  const at = 'spec.conversion';
  if (!conv.strategy) return [fe.required(`${at}.strategy`)];
  if (conv.strategy !== 'None' && conv.strategy !== 'Webhook')
    return [fe.notSupported(`${at}.strategy`, conv.strategy, ['None', 'Webhook'])];
  const webhook = isObject(conv.webhook) ? conv.webhook : undefined;
  if (conv.strategy === 'Webhook') {
    const cc = isObject(webhook?.clientConfig) ? webhook.clientConfig : undefined;
    if (!cc) return [fe.required(`${at}.webhookClientConfig`, 'required when strategy is set to Webhook')];
    if ((cc.url === undefined) === (cc.service === undefined)) {
      return [fe.required(`${at}.webhookClientConfig`, 'exactly one of url or service is required')];
    }
    const reviews = webhook?.conversionReviewVersions;
    if (!Array.isArray(reviews) || reviews.length === 0) return [fe.required(`${at}.conversionReviewVersions`)];
    if (!reviews.some((r) => r === 'v1' || r === 'v1beta1')) {
      return [fe.invalid(`${at}.conversionReviewVersions`, reviews, 'must include at least one of v1, v1beta1')];
    }
    return [];
  }
  if (webhook?.clientConfig)
    return [fe.forbidden(`${at}.webhookClientConfig`, 'should not be set when strategy is not set to Webhook')];
  return [];
}
