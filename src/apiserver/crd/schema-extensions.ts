// CRD schema rules for the x-kubernetes-* extensions (preserve-unknown-fields,
// map-type, list-type and list-map-keys), with Kubernetes' messages.
import type { StatusCause } from '../../api/types.ts';
import { isObject } from '../../api/types.ts';
import type { Schema } from '../schema/types.ts';
import { fieldError as fe, path } from './field-errors.ts';

export function extensionRules(s: Schema, at: string): StatusCause[] {
  const errs: StatusCause[] = [];
  const listType = s['x-kubernetes-list-type'];
  const mapType = s['x-kubernetes-map-type'];
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    errs.push(fe.invalid(`${at}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  }
  if (mapType !== undefined && s.type !== 'object') {
    errs.push(
      s.type === undefined
        ? fe.required(`${at}.type`, 'must be object if x-kubernetes-map-type is specified')
        : fe.invalid(`${at}.type`, s.type, 'must be object if x-kubernetes-map-type is specified'),
    );
  }
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') {
    errs.push(fe.notSupported(`${at}.x-kubernetes-map-type`, mapType, ['atomic', 'granular']));
  }
  const items = isObject(s.items) ? s.items : undefined;
  if (listType !== undefined && s.type !== 'array') {
    errs.push(
      s.type === undefined
        ? fe.required(`${at}.type`, 'must be array if x-kubernetes-list-type is specified')
        : fe.invalid(`${at}.type`, s.type, 'must be array if x-kubernetes-list-type is specified'),
    );
  } else if (listType === 'set' && items) {
    if (
      items.type === 'array' &&
      items['x-kubernetes-list-type'] !== undefined &&
      items['x-kubernetes-list-type'] !== 'atomic'
    ) {
      errs.push(
        fe.invalid(
          `${at}.items.x-kubernetes-list-type`,
          items['x-kubernetes-list-type'],
          'must be atomic as item of a list with x-kubernetes-list-type=set',
        ),
      );
    }
    if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      errs.push(
        fe.invalid(
          `${at}.items.x-kubernetes-map-type`,
          listType,
          'must be atomic as item of a list with x-kubernetes-list-type=set',
        ),
      );
    }
  }
  if (listType !== undefined && !['atomic', 'set', 'map'].includes(listType)) {
    errs.push(fe.notSupported(`${at}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  }
  if (keys.length > 0 && listType !== 'map') {
    errs.push(
      listType === undefined
        ? fe.required(`${at}.x-kubernetes-list-type`, 'must be map if x-kubernetes-list-map-keys is non-empty')
        : fe.invalid(
            `${at}.x-kubernetes-list-type`,
            listType,
            'must be map if x-kubernetes-list-map-keys is non-empty',
          ),
    );
  }
  if (listType === 'map') {
    if (keys.length === 0)
      errs.push(fe.required(`${at}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
    if (!items) errs.push(fe.required(`${at}.items`, 'must have a schema if x-kubernetes-list-type is map'));
    else if (items.type !== 'object') {
      errs.push(
        fe.invalid(
          `${at}.items.type`,
          items.type ?? '',
          "must be object if parent array's x-kubernetes-list-type is map",
        ),
      );
    } else {
      const seen = new Set<string>();
      for (const k of keys) {
        const p = items.properties?.[k];
        if (!p)
          errs.push(
            fe.invalid(`${at}.x-kubernetes-list-map-keys`, keys, 'entries must all be names of item properties'),
          );
        else if (p.type === 'array' || p.type === 'object') {
          errs.push(
            fe.invalid(
              `${path.key(`${at}.items.properties`, k)}.type`,
              items.type,
              "must be a scalar type if parent array's x-kubernetes-list-type is map",
            ),
          );
        }
        if (seen.has(k))
          errs.push(fe.invalid(`${at}.x-kubernetes-list-map-keys`, keys, 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  if ((listType === 'set' || listType === 'map') && items) {
    if (items.nullable)
      errs.push(fe.forbidden(`${at}.items.nullable`, `cannot be nullable when x-kubernetes-list-type is ${listType}`));
    if (listType === 'map') {
      for (const k of keys) {
        const p = items.properties?.[k];
        if (!p) continue;
        const keyAt = path.key(`${at}.items.properties`, k);
        if (!items.required?.includes(k) && p.default === undefined) {
          errs.push(
            fe.required(
              `${keyAt}.default`,
              'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
            ),
          );
        }
        if (p.nullable)
          errs.push(
            fe.forbidden(
              `${keyAt}.nullable`,
              'this property is in x-kubernetes-list-map-keys, so it cannot be nullable',
            ),
          );
      }
    }
  }
  return errs;
}
