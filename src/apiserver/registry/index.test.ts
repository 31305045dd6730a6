import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { customResourceDefinitions } from './apiextensions.ts';
import { cronJobs, JOB_LABELS, jobs, validateSchedule } from './batch.ts';
import { endpointSlices } from './discovery.ts';
import { builtinResources } from './index.ts';
import { ingresses, networkPolicies } from './networking.ts';
import { leases } from './coordination.ts';

const now = new Date('2024-05-01T12:00:00Z');
const messages = (causes: { field?: string; message?: string }[]) => causes.map((c) => `${c.field}: ${c.message}`);

test('builtinResources: unique, consistent definitions', () => {
  const defs = builtinResources();
  const keys = defs.map((d) => `${d.group}/${d.plural}`);
  assert.equal(new Set(keys).size, keys.length);
  for (const d of defs) {
    assert.ok(d.versions.length > 0, d.plural);
    assert.ok(d.storage || d.versions.includes(d.storageVersion), `${d.plural} storage version is served`);
    assert.equal(d.listKind, `${d.kind}List`);
    for (const c of d.strategy.columns) assert.notEqual(c.name === 'Name' && !d.strategy.includesNameColumn, true, d.plural);
  }
  const short = defs.flatMap((d) => d.shortNames ?? []);
  assert.equal(new Set(short).size, short.length, 'short names are unambiguous');
  const all = defs.filter((d) => d.categories?.includes('all')).map((d) => d.plural).sort();
  assert.deepEqual(all, ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'pods', 'replicasets', 'services', 'statefulsets']);
  const pods = defs.find((d) => d.plural === 'pods');
  assert.deepEqual(pods?.subresources.other, ['binding', 'log', 'exec', 'attach', 'portforward', 'proxy', 'eviction']);
});

describe('jobs', () => {
  function job(): KubeObject {
    return {
      metadata: { name: 'pi', namespace: 'default', uid: 'u-1' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } },
    };
  }

  test('defaults and generated selector', () => {
    const j = job();
    jobs.strategy.defaults?.(j, 'v1');
    jobs.strategy.prepareForCreate?.(j);
    assert.equal(j.spec.completions, 1);
    assert.equal(j.spec.parallelism, 1);
    assert.equal(j.spec.backoffLimit, 6);
    assert.equal(j.spec.completionMode, 'NonIndexed');
    assert.deepEqual(j.spec.selector, { matchLabels: { [JOB_LABELS.controllerUid]: 'u-1' } });
    assert.equal(j.spec.template.metadata.labels[JOB_LABELS.jobName], 'pi');
    assert.equal(j.spec.template.metadata.labels['controller-uid'], 'u-1');
    assert.deepEqual(jobs.strategy.validate?.(j, undefined), []);
  });

  test('restartPolicy Always is rejected; table', () => {
    const j = job();
    j.spec.template.spec.restartPolicy = 'Always';
    jobs.strategy.defaults?.(j, 'v1');
    jobs.strategy.prepareForCreate?.(j);
    assert.deepEqual(messages(jobs.strategy.validate?.(j, undefined) ?? []), [
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
    j.status = { succeeded: 1, startTime: '2024-05-01T11:59:00Z', completionTime: '2024-05-01T11:59:07Z', conditions: [{ type: 'Complete', status: 'True' }] };
    assert.deepEqual(jobs.strategy.cells(j, now).slice(0, 3), ['Complete', '1/1', '7s']);
  });

  test('cron schedules and cronjob row', () => {
    assert.deepEqual(validateSchedule('*/5 * * * *'), []);
    assert.deepEqual(validateSchedule('@hourly'), []);
    assert.deepEqual(validateSchedule('bad'), ['expected exactly 5 fields, found 1: [bad]']);
    const cj: KubeObject = {
      metadata: { name: 'c' },
      spec: { schedule: '*/1 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'x', image: 'busybox' }] } } } } },
      status: { active: [{ name: 'c-1' }], lastScheduleTime: '2024-05-01T11:59:30Z' },
    };
    cronJobs.strategy.defaults?.(cj, 'v1');
    assert.deepEqual(cronJobs.strategy.validate?.(cj, undefined), []);
    assert.deepEqual(cronJobs.strategy.cells(cj, now).slice(0, 5), ['*/1 * * * *', '<none>', 'False', 1, '30s']);
  });
});

test('ingress, networkpolicy, endpointslice, lease', () => {
  const ing: KubeObject = {
    metadata: { name: 'i' },
    spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: 'x', pathType: 'Prefix', backend: { service: { name: 's', port: {} } } }] } }] },
  };
  assert.deepEqual(messages(ingresses.strategy.validate?.(ing, undefined) ?? []), [
    'spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path',
    'spec.rules[0].http.paths[0].backend.service.port: Invalid value: "": port name or number is required',
  ]);
  assert.deepEqual(ingresses.strategy.cells(ing, now).slice(0, 4), ['<none>', 'a.example.com', '', '80']);
  const np: KubeObject = { metadata: { name: 'n' }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } };
  networkPolicies.strategy.defaults?.(np, 'v1');
  assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(np.spec.egress[0].ports[0].protocol, 'TCP');
  assert.equal(networkPolicies.strategy.cells(np, now)[0], '<none>');
  const slice: KubeObject = { metadata: { name: 's' }, addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.0.0.1'] }] };
  assert.deepEqual(endpointSlices.strategy.cells(slice, now).slice(0, 3), ['IPv4', '80', '10.0.0.1']);
  assert.deepEqual(messages(endpointSlices.strategy.validate?.({ metadata: {}, addressType: 'IPv5' }, undefined) ?? []), [
    'addressType: Unsupported value: "IPv5": supported values: "IPv4", "IPv6", "FQDN"',
  ]);
  assert.deepEqual(leases.strategy.cells({ metadata: {}, spec: { holderIdentity: 'me' } }, now), ['me', '<unknown>']);
});

test('CRD basic validation and defaults', () => {
  const crd: KubeObject = {
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        { name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
      ],
    },
  };
  customResourceDefinitions.strategy.defaults?.(crd, 'v1');
  assert.equal(crd.spec.names.listKind, 'WidgetList');
  assert.equal(crd.spec.names.singular, 'widget');
  const twoStorage = messages(customResourceDefinitions.strategy.validate?.(crd, undefined) ?? []);
  assert.equal(twoStorage.length, 1);
  assert.match(twoStorage[0], /^spec\.versions: Invalid value: .*: must have exactly one version marked as storage version$/);
  crd.spec.versions[1].storage = false;
  customResourceDefinitions.strategy.prepareForCreate?.(crd);
  assert.deepEqual(crd.status.storedVersions, ['v1']);
  const bad = { ...crd, metadata: { name: 'x' }, spec: { ...crd.spec, group: 'nodot' } };
  assert.deepEqual(messages(customResourceDefinitions.strategy.validate?.(bad, undefined) ?? []), [
    'metadata.name: Invalid value: "x": must be spec.names.plural+"."+spec.group',
    'spec.group: Invalid value: "nodot": should be a domain with at least one dot',
  ]);
});
