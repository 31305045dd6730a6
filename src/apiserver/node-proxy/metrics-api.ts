// metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics) for `kubectl top`. In
// Kubernetes metrics-server serves it as an aggregated API; here the API
// server serves it itself, asking each node's agent for its stats summary.
import { request } from 'node:https';
import { errors } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { Summary } from '../../agent/streaming/stats.ts';
import type { SubresourceHandler } from '../http/deps.ts';
import { sendJson } from '../http/respond.ts';
import type { ResourceDef } from '../registry/types.ts';
import { listObjects } from '../resources/list.ts';
import { agentEndpoint } from './node-address.ts';
import type { NodeProxyDeps } from './pod-streams.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
/** A node that does not answer within this is left out of the answer, as metrics-server leaves out unscraped nodes. */
const SCRAPE_TIMEOUT_MS = 5000;

function metricsDef(kind: 'NodeMetrics' | 'PodMetrics'): ResourceDef {
  const nodes = kind === 'NodeMetrics';
  return {
    group: METRICS_GROUP,
    kind,
    listKind: `${kind}List`,
    plural: nodes ? 'nodes' : 'pods',
    singular: '',
    namespaced: !nodes,
    versions: [VERSION],
    storageVersion: VERSION,
    subresources: {},
    verbs: ['get', 'list'],
    strategy: { columns: [], cells: () => [] },
  };
}

export const METRICS_DEFS: ResourceDef[] = [metricsDef('NodeMetrics'), metricsDef('PodMetrics')];

const cpu = (nanoCores: number) => `${Math.round(nanoCores)}n`;
const memory = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;

function scrape(deps: NodeProxyDeps, node: KubeObject): Promise<Summary | undefined> {
  const endpoint = agentEndpoint(node);
  if (!endpoint) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const req = request(
      { host: endpoint.host, port: endpoint.port, path: '/stats/summary', ca: deps.tls.caPem, cert: deps.tls.certPem, key: deps.tls.keyPem, timeout: SCRAPE_TIMEOUT_MS },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 ? (JSON.parse(body) as Summary) : undefined);
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

async function scrapeAll(deps: NodeProxyDeps): Promise<{ node: KubeObject; summary: Summary }[]> {
  const nodesDef = deps.registry.byGroupResource('', 'nodes')!;
  const { items } = await listObjects(deps.store, nodesDef, 'v1', '', { filtered: false });
  const summaries = await Promise.all(items.map((node) => scrape(deps, node)));
  return items.flatMap((node, i) => (summaries[i] ? [{ node, summary: summaries[i]! }] : []));
}

function respond(res: Parameters<SubresourceHandler>[0]['res'], kind: string, name: string, items: object[]): void {
  const apiVersion = `${METRICS_GROUP}/${VERSION}`;
  if (name) {
    const found = items.find((i) => (i as KubeObject).metadata.name === name);
    if (!found) throw errors.notFound({ group: METRICS_GROUP, resource: kind === 'NodeMetrics' ? 'nodes' : 'pods' }, name);
    sendJson(res, 200, found);
    return;
  }
  sendJson(res, 200, { kind: `${kind}List`, apiVersion, metadata: {}, items });
}

export function metricsHandlers(deps: NodeProxyDeps): Map<string, SubresourceHandler> {
  const apiVersion = `${METRICS_GROUP}/${VERSION}`;
  const nodes: SubresourceHandler = async ({ res, info }) => {
    if (info.verb !== 'get' && info.verb !== 'list') throw errors.methodNotAllowed();
    const items = (await scrapeAll(deps)).map(({ node, summary }) => ({
      kind: 'NodeMetrics',
      apiVersion,
      metadata: { name: node.metadata.name, creationTimestamp: summary.node.time, labels: node.metadata.labels },
      timestamp: summary.node.time,
      window: summary.node.window,
      usage: { cpu: cpu(summary.node.usageNanoCores), memory: memory(summary.node.workingSetBytes) },
    }));
    respond(res, 'NodeMetrics', info.name, items);
  };
  const pods: SubresourceHandler = async ({ res, info }) => {
    if (info.verb !== 'get' && info.verb !== 'list') throw errors.methodNotAllowed();
    const items = (await scrapeAll(deps)).flatMap(({ summary }) =>
      summary.pods
        .filter((p) => !info.namespace || p.namespace === info.namespace)
        .map((p) => ({
          kind: 'PodMetrics',
          apiVersion,
          metadata: { name: p.name, namespace: p.namespace, creationTimestamp: p.time },
          timestamp: p.time,
          window: p.window,
          containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: cpu(c.usageNanoCores), memory: memory(c.workingSetBytes) } })),
        })),
    );
    respond(res, 'PodMetrics', info.name, items);
  };
  return new Map([
    [`${METRICS_GROUP}/nodes`, nodes],
    [`${METRICS_GROUP}/pods`, pods],
  ]);
}
