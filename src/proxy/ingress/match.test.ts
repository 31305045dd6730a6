import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { buildRoutingTable, hostName, normalizePrefix, requestPath, routeRequest } from './match.ts';

type Path = { path?: string; pathType: string; service: string; port?: number | string };

function ingress(
  name: string,
  spec: { rules?: { host?: string; paths?: Path[] }[]; defaultBackend?: string },
  created = '2024-01-01T00:00:00Z',
  namespace = 'default',
): KubeObject {
  const backend = (service: string, port: number | string = 80) => ({
    service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } },
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, creationTimestamp: created },
    spec: {
      ...(spec.defaultBackend ? { defaultBackend: backend(spec.defaultBackend) } : {}),
      rules: (spec.rules ?? []).map((r) => ({
        ...(r.host ? { host: r.host } : {}),
        ...(r.paths
          ? {
              http: {
                paths: r.paths.map((p) => ({
                  path: p.path,
                  pathType: p.pathType,
                  backend: backend(p.service, p.port),
                })),
              },
            }
          : {}),
      })),
    },
  };
}

const to = (table: ReturnType<typeof buildRoutingTable>, host: string, url: string) =>
  routeRequest(table, host, url)?.backend.service;

describe('path matching', () => {
  const table = buildRoutingTable([
    ingress('a', {
      rules: [
        {
          paths: [
            { path: '/foo', pathType: 'Prefix', service: 'foo' },
            { path: '/foo/bar/', pathType: 'Prefix', service: 'foobar' },
            { path: '/exact', pathType: 'Exact', service: 'exact' },
            { path: '/app', pathType: 'ImplementationSpecific', service: 'impl' },
          ],
        },
      ],
    }),
  ]);

  test('Prefix matches element-wise, not by characters', () => {
    assert.equal(to(table, 'x', '/foo'), 'foo');
    assert.equal(to(table, 'x', '/foo/'), 'foo');
    assert.equal(to(table, 'x', '/foo/baz'), 'foo');
    assert.equal(to(table, 'x', '/foobar'), undefined);
    assert.equal(to(table, 'x', '/fo'), undefined);
  });

  test("a Prefix rule's trailing slash is ignored; the longest prefix wins", () => {
    assert.equal(to(table, 'x', '/foo/bar'), 'foobar');
    assert.equal(to(table, 'x', '/foo/bar/'), 'foobar');
    assert.equal(to(table, 'x', '/foo/bar/baz'), 'foobar');
    assert.equal(to(table, 'x', '/foo/barn'), 'foo');
  });

  test('Exact matches only the whole path, case-sensitively', () => {
    assert.equal(to(table, 'x', '/exact'), 'exact');
    assert.equal(to(table, 'x', '/exact/'), undefined);
    assert.equal(to(table, 'x', '/exact/more'), undefined);
    assert.equal(to(table, 'x', '/EXACT'), undefined);
  });

  test('ImplementationSpecific is treated as Prefix; the query string is not part of the path', () => {
    assert.equal(to(table, 'x', '/app/x?y=1'), 'impl');
    assert.equal(to(table, 'x', '/app?next=/foo'), 'impl');
    assert.equal(to(table, 'x', '/application'), undefined);
  });

  test('at equal length Exact beats Prefix, whatever the order of rules and Ingresses', () => {
    const t = buildRoutingTable([
      ingress(
        'old',
        { rules: [{ paths: [{ path: '/same', pathType: 'Prefix', service: 'prefix' }] }] },
        '2024-01-01T00:00:00Z',
      ),
      ingress(
        'new',
        { rules: [{ paths: [{ path: '/same', pathType: 'Exact', service: 'exact' }] }] },
        '2024-02-01T00:00:00Z',
      ),
    ]);
    assert.equal(to(t, 'x', '/same'), 'exact');
    assert.equal(to(t, 'x', '/same/x'), 'prefix');
  });

  test('Prefix / matches everything, and a longer prefix still wins over it', () => {
    const t = buildRoutingTable([
      ingress('a', {
        rules: [
          {
            paths: [
              { path: '/', pathType: 'Prefix', service: 'root' },
              { path: '/api', pathType: 'Prefix', service: 'api' },
            ],
          },
        ],
      }),
    ]);
    assert.equal(to(t, 'x', '/'), 'root');
    assert.equal(to(t, 'x', '/anything/at/all'), 'root');
    assert.equal(to(t, 'x', '/api/v1'), 'api');
  });
});

describe('host matching', () => {
  const table = buildRoutingTable([
    ingress('hosts', {
      rules: [
        { host: 'foo.bar.com', paths: [{ path: '/', pathType: 'Prefix', service: 'exact-host' }] },
        { host: '*.bar.com', paths: [{ path: '/', pathType: 'Prefix', service: 'wild' }] },
        { paths: [{ path: '/any', pathType: 'Prefix', service: 'any' }] },
      ],
    }),
  ]);

  test('exact hosts beat wildcards; the Host header is case-insensitive and its port ignored', () => {
    assert.equal(to(table, 'foo.bar.com', '/'), 'exact-host');
    assert.equal(to(table, 'FOO.Bar.com:8080', '/x'), 'exact-host');
    assert.equal(to(table, 'foo.bar.com.', '/x'), 'exact-host');
  });

  test('a wildcard covers exactly one label', () => {
    assert.equal(to(table, 'baz.bar.com', '/'), 'wild');
    assert.equal(to(table, 'a.baz.bar.com', '/'), undefined);
    assert.equal(to(table, 'bar.com', '/'), undefined);
  });

  test('rules without a host serve every host, after the host rules had their chance', () => {
    assert.equal(to(table, 'other.example', '/any'), 'any');
    assert.equal(to(table, '10.0.0.1:80', '/any/thing'), 'any');
    assert.equal(to(table, '', '/any'), 'any');
    // foo.bar.com's "/" already matches /any, so the host rule wins.
    assert.equal(to(table, 'foo.bar.com', '/any'), 'exact-host');
  });

  test('paths a host does not have fall through to wildcard and host-less rules', () => {
    const t = buildRoutingTable([
      ingress('a', {
        rules: [
          { host: 'api.example.com', paths: [{ path: '/v1', pathType: 'Prefix', service: 'v1' }] },
          { host: '*.example.com', paths: [{ path: '/static', pathType: 'Prefix', service: 'static' }] },
          { paths: [{ path: '/', pathType: 'Prefix', service: 'catchall' }] },
        ],
      }),
    ]);
    assert.equal(to(t, 'api.example.com', '/v1/x'), 'v1');
    assert.equal(to(t, 'api.example.com', '/static/a.css'), 'static');
    assert.equal(to(t, 'api.example.com', '/other'), 'catchall');
  });

  test('hostName parses IPv6 literals and ports', () => {
    assert.equal(hostName('[::1]:8080'), '[::1]');
    assert.equal(hostName('Example.COM'), 'example.com');
    assert.equal(hostName(undefined), '');
  });
});

describe('default backends and merging', () => {
  test('the default backend takes what no rule matches; without one, nothing (404)', () => {
    const withDefault = buildRoutingTable([
      ingress('a', {
        defaultBackend: 'fallback',
        rules: [{ host: 'a.com', paths: [{ path: '/x', pathType: 'Exact', service: 'x' }] }],
      }),
    ]);
    assert.equal(to(withDefault, 'a.com', '/x'), 'x');
    assert.equal(to(withDefault, 'a.com', '/y'), 'fallback');
    assert.equal(to(withDefault, 'b.com', '/'), 'fallback');
    const without = buildRoutingTable([
      ingress('a', { rules: [{ host: 'a.com', paths: [{ path: '/x', pathType: 'Exact', service: 'x' }] }] }),
    ]);
    assert.equal(routeRequest(without, 'a.com', '/y'), undefined);
    assert.equal(routeRequest(buildRoutingTable([]), 'a.com', '/'), undefined);
  });

  test("a host's own Ingress's default backend beats the cluster-wide one", () => {
    const t = buildRoutingTable([
      ingress('old', { defaultBackend: 'global' }, '2024-01-01T00:00:00Z'),
      ingress(
        'new',
        {
          defaultBackend: 'mine',
          rules: [{ host: 'mine.com', paths: [{ path: '/x', pathType: 'Exact', service: 'x' }] }],
        },
        '2024-02-01T00:00:00Z',
      ),
    ]);
    assert.equal(to(t, 'mine.com', '/nope'), 'mine');
    assert.equal(to(t, 'other.com', '/nope'), 'global');
  });

  test('the oldest Ingress wins a conflict on the same host, path and type; ties go by namespace/name', () => {
    const rule = (service: string) => ({ host: 'a.com', paths: [{ path: '/p', pathType: 'Prefix', service }] });
    const t = buildRoutingTable([
      ingress('young', { rules: [rule('young')] }, '2024-03-01T00:00:00Z'),
      ingress('old', { rules: [rule('old')] }, '2024-01-01T00:00:00Z'),
    ]);
    assert.equal(to(t, 'a.com', '/p'), 'old');
    const tie = buildRoutingTable([ingress('b', { rules: [rule('b')] }), ingress('a', { rules: [rule('a')] })]);
    assert.equal(to(tie, 'a.com', '/p'), 'a');
  });

  test('backends keep their namespace and port by number or name', () => {
    const t = buildRoutingTable([
      ingress(
        'a',
        { rules: [{ paths: [{ path: '/n', pathType: 'Prefix', service: 'web', port: 'http' }] }] },
        undefined,
        'shop',
      ),
    ]);
    assert.deepEqual(routeRequest(t, 'x', '/n')?.backend, { namespace: 'shop', service: 'web', port: 'http' });
  });
});

test('requestPath and normalizePrefix', () => {
  assert.equal(requestPath('/a/b?c=d#e'), '/a/b');
  assert.equal(requestPath('http://example.com/a?x'), '/a');
  assert.equal(requestPath('http://example.com'), '/');
  assert.equal(requestPath('*'), '*');
  assert.equal(normalizePrefix('/foo///'), '/foo');
  assert.equal(normalizePrefix('/'), '/');
});
