import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestInfo } from './request-info.ts';

const parse = (method: string, url: string) => {
  const u = new URL(url, 'http://x');
  return parseRequestInfo(method, u.pathname, u.searchParams);
};

test('namespaced resource with subresource', () => {
  const info = parse('PUT', '/api/v1/namespaces/default/pods/nginx/status');
  assert.equal(info.isResourceRequest, true);
  assert.deepEqual(
    [info.group, info.version, info.namespace, info.resource, info.name, info.subresource, info.verb],
    ['', 'v1', 'default', 'pods', 'nginx', 'status', 'update'],
  );
});

test('group resources, list, watch and deletecollection', () => {
  assert.equal(parse('GET', '/apis/apps/v1/namespaces/default/deployments').verb, 'list');
  assert.equal(parse('GET', '/apis/apps/v1/deployments?watch=true').verb, 'watch');
  assert.equal(parse('GET', '/api/v1/watch/namespaces/default/pods').verb, 'watch');
  assert.equal(parse('GET', '/api/v1/watch/namespaces/default/pods').namespace, 'default');
  assert.equal(parse('DELETE', '/api/v1/namespaces/default/pods').verb, 'deletecollection');
  assert.equal(parse('GET', '/apis/apps/v1/deployments').group, 'apps');
});

test('namespaces themselves and their subresources', () => {
  const ns = parse('GET', '/api/v1/namespaces/foo');
  assert.deepEqual([ns.resource, ns.name, ns.namespace, ns.verb], ['namespaces', 'foo', '', 'get']);
  const fin = parse('PUT', '/api/v1/namespaces/foo/finalize');
  assert.deepEqual([fin.resource, fin.name, fin.subresource], ['namespaces', 'foo', 'finalize']);
  assert.equal(parse('GET', '/api/v1/namespaces').verb, 'list');
});

test('discovery paths are not resource requests', () => {
  for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/openapi/v3']) {
    assert.equal(parse('GET', p).isResourceRequest, false, p);
  }
});

test('proxy paths keep the rest', () => {
  const info = parse('GET', '/api/v1/namespaces/a/pods/p/proxy/x/y');
  assert.deepEqual(info.rest, ['x', 'y']);
});
