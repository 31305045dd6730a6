import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cronTab, destinationRule } from './fixtures.test-helpers.ts';
import { defaultCrd, validateCrd } from './validate-crd.ts';

const messages = (crd = cronTab()) => validateCrd(defaultCrd(crd)).map((c) => `${c.field}: ${c.message}`);

describe('defaultCrd', () => {
  test('fills singular, listKind and conversion', () => {
    const crd = cronTab();
    delete crd.spec.names.singular;
    const d = defaultCrd(crd);
    assert.equal(d.spec.names.singular, 'crontab');
    assert.equal(d.spec.names.listKind, 'CronTabList');
    assert.deepEqual(d.spec.conversion, { strategy: 'None' });
  });
});

describe('validateCrd', () => {
  test('accepts the CronTab and a multi-version Istio DestinationRule', () => {
    assert.deepEqual(messages(), []);
    assert.deepEqual(messages(destinationRule()), []);
  });

  test('name must be plural.group; group needs a dot; scope is an enum', () => {
    const crd = cronTab();
    crd.metadata.name = 'crontab.stable.example.com';
    crd.spec.group = 'example';
    (crd.spec as { scope: string }).scope = 'Global';
    assert.deepEqual(messages(crd), [
      'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group',
      'spec.group: Invalid value: "example": should be a domain with at least one dot',
      'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
    ]);
  });

  test('versions: exactly one storage version, unique names, schema required', () => {
    const crd = cronTab();
    crd.spec.versions.push({ ...structuredClone(crd.spec.versions[0]), schema: undefined });
    const out = messages(crd);
    assert.ok(out.includes('spec.versions[1].schema.openAPIV3Schema: Required value'), out.join('\n'));
    assert.ok(
      out.some(
        (m) => m.startsWith('spec.versions: Invalid value: ') && m.endsWith('must contain unique version names'),
      ),
    );
    assert.ok(out.some((m) => m.endsWith('must have exactly one version marked as storage version')));
  });

  test('structural schema: every field typed, reported under spec.validation when versions agree', () => {
    const crd = cronTab();
    delete crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.properties!.image.type;
    assert.deepEqual(messages(crd), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[image].type: Required value: must not be empty for specified object fields',
    ]);
  });

  test('per-version paths when schemas differ; root must be object', () => {
    const crd = destinationRule();
    crd.spec.versions[0].schema!.openAPIV3Schema!.type = 'array';
    crd.spec.versions[0].schema!.openAPIV3Schema!.items = { type: 'string' };
    const out = messages(crd);
    assert.ok(
      out.includes(
        'spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "array": only "object" is allowed as the type at the root of the schema if the status subresource is enabled',
      ),
      out.join('\n'),
    );
  });

  test('value validations nested in oneOf may not carry types', () => {
    const crd = cronTab();
    crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.oneOf = [{ type: 'object', required: ['image'] }];
    assert.deepEqual(messages(crd), [
      'spec.validation.openAPIV3Schema.properties[spec].oneOf[0].type: Forbidden: must be empty to be structural',
    ]);
  });

  test('defaults must validate against their own schema', () => {
    const crd = cronTab();
    crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.properties!.replicas.default = 'one';
    assert.deepEqual(messages(crd), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string"',
    ]);
  });

  test('list-map keys must be required or defaulted', () => {
    const crd = cronTab();
    crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.properties!.ports = {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['port'],
      items: { type: 'object', properties: { port: { type: 'integer' } } },
    };
    assert.deepEqual(messages(crd), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[ports].items.properties[port].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
    ]);
  });

  test('names, printer columns and scale paths', () => {
    const crd = cronTab();
    crd.spec.names.shortNames = ['CT'];
    crd.spec.names.listKind = 'CronTab';
    crd.spec.versions[0].additionalPrinterColumns!.push({ name: '', type: 'time', jsonPath: 'spec.x' });
    crd.spec.versions[0].subresources!.scale!.specReplicasPath = '.status.replicas';
    const out = messages(crd);
    assert.deepEqual(out, [
      "spec.names.shortNames[0]: Invalid value: \"CT\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      'spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same',
      'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
      'spec.additionalPrinterColumns[3].name: Required value',
      'spec.additionalPrinterColumns[3].type: Invalid value: "time": must be one of boolean,date,integer,number,string',
      'spec.additionalPrinterColumns[3].JSONPath: Invalid value: "spec.x": must be a simple json path starting with .',
    ]);
  });

  test('uniqueItems is refused, as in Kubernetes', () => {
    const crd = cronTab();
    crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.properties!.tags = {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string' },
    };
    assert.deepEqual(messages(crd), [
      'spec.validation.openAPIV3Schema.properties[spec].properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
    ]);
  });
});
