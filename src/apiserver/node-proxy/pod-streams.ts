// pods/log, pods/exec, pods/attach and pods/portforward: the API server finds
// the pod's node and proxies to that node's agent over mutual TLS, as
// kube-apiserver does to the kubelet. Streams (WebSocket, SPDY) are proxied
// at the TCP level after the upgrade request is rewritten for the agent.
import { request } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect } from 'node:tls';
import { ApiError, errors } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { SubresourceHandler } from '../http/deps.ts';
import type { RequestInfo } from '../http/request-info.ts';
import type { ObjectService } from '../resources/objects.ts';
import type { ResourceRegistry } from '../resources/registry.ts';
import type { Store } from '../../store/types.ts';
import { type AgentEndpoint, agentEndpoint } from './node-address.ts';
import { isUpgrade, upgradeHead } from './upgrade.ts';

/** How long the agent may take to accept a connection before the request fails. */
const AGENT_CONNECT_TIMEOUT_MS = 10_000;
/** Headers of an upgrade that the agent needs; nothing else (notably not the user's Authorization) crosses. */
const UPGRADE_HEADERS = ['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'x-stream-protocol-version'];

export type AgentTls = { caPem: string; certPem: string; keyPem: string };
export type NodeProxyDeps = { objects: ObjectService; registry: ResourceRegistry; store: Store; tls: AgentTls };

type Args = Parameters<SubresourceHandler>[0];

async function podAndNode(deps: NodeProxyDeps, info: RequestInfo): Promise<{ pod: KubeObject; endpoint: AgentEndpoint }> {
  const pods = deps.registry.byGroupResource('', 'pods')!;
  const nodes = deps.registry.byGroupResource('', 'nodes')!;
  const pod = await deps.objects.get(pods, 'v1', info.namespace, info.name);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${info.name} does not have a host assigned`);
  const node = await deps.objects.get(nodes, 'v1', '', nodeName).catch(() => undefined);
  const endpoint = node && agentEndpoint(node);
  if (!endpoint) throw errors.badRequest(`node ${nodeName} has no agent address to connect to`);
  return { pod, endpoint };
}

/** The container a request means: ?container=, the default-container annotation, or the only one. */
export function pickContainer(pod: KubeObject, wanted: string | null): string {
  const names = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
  const inits = (pod.spec?.initContainers ?? []).map((c: { name: string }) => c.name);
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c: { name: string }) => c.name);
  if (wanted) {
    if (![...names, ...inits, ...ephemeral].includes(wanted)) {
      throw errors.badRequest(`container ${wanted} is not valid for pod ${pod.metadata.name}`);
    }
    return wanted;
  }
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && names.includes(annotated)) return annotated;
  if (names.length === 1) return names[0];
  const initPart = inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : '';
  throw errors.badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]${initPart}`);
}

function waitingReason(pod: KubeObject, container: string): string | undefined {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  return statuses.find((s: { name: string }) => s.name === container)?.state?.waiting?.reason;
}

function agentPath(kind: string, pod: KubeObject, container: string, query: URLSearchParams): string {
  const q = new URLSearchParams(query);
  q.delete('container');
  const base = `/${kind}/${encodeURIComponent(pod.metadata.namespace ?? '')}/${encodeURIComponent(pod.metadata.name ?? '')}`;
  const qs = q.toString();
  return `${base}${container ? `/${encodeURIComponent(container)}` : ''}${qs ? `?${qs}` : ''}`;
}

function agentError(code: number, body: string): ApiError {
  const message = body.trim() || `the node agent answered ${code}`;
  if (code === 404) return new ApiError(404, 'NotFound', message);
  if (code === 400) return errors.badRequest(message);
  if (code === 403) return errors.forbidden(message);
  return errors.internal(message);
}

/** GET pods/log: the agent's text stream, passed through as it arrives. */
async function proxyLog(deps: NodeProxyDeps, { req, res, info, query }: Args): Promise<void> {
  if (info.verb !== 'get') throw errors.methodNotAllowed();
  const { pod, endpoint } = await podAndNode(deps, info);
  const container = pickContainer(pod, query.get('container'));
  const waiting = waitingReason(pod, container);
  const previous = query.get('previous') === 'true';
  if (waiting && !previous) throw errors.badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${waiting}`);
  await new Promise<void>((resolve, reject) => {
    const upstream = request({
      host: endpoint.host,
      port: endpoint.port,
      path: agentPath('containerLogs', pod, container, query),
      method: 'GET',
      ca: deps.tls.caPem,
      cert: deps.tls.certPem,
      key: deps.tls.keyPem,
      timeout: AGENT_CONNECT_TIMEOUT_MS,
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timed out connecting to the node agent')));
    upstream.on('error', (err) => reject(res.headersSent ? err : errors.serviceUnavailable(`error talking to node agent: ${err.message}`)));
    upstream.on('response', (answer) => {
      upstream.setTimeout(0); // -f streams may be quiet for a long time
      if (answer.statusCode !== 200) {
        let body = '';
        answer.on('data', (chunk) => {
          body += chunk;
        });
        answer.on('end', () => reject(agentError(answer.statusCode ?? 500, body)));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      answer.pipe(res);
      answer.on('end', resolve);
      answer.on('error', reject);
    });
    req.on('close', () => upstream.destroy());
    upstream.end();
  });
}

/** exec, attach, portforward: rewrite the upgrade for the agent, then splice the two connections. */
async function proxyUpgrade(deps: NodeProxyDeps, kind: 'exec' | 'attach' | 'portForward', { req, res, info, query }: Args): Promise<void> {
  if (info.verb !== 'get' && info.verb !== 'create') throw errors.methodNotAllowed();
  if (!isUpgrade(req)) throw errors.badRequest('Upgrade request required');
  const { pod, endpoint } = await podAndNode(deps, info);
  const phase = pod.status?.phase;
  if (kind !== 'portForward' && (phase === 'Succeeded' || phase === 'Failed')) {
    throw errors.badRequest(`cannot ${kind} into a container in a completed pod; current phase is ${phase}`);
  }
  const container = kind === 'portForward' ? '' : pickContainer(pod, query.get('container'));
  const agent = connect({ host: endpoint.host, port: endpoint.port, ca: deps.tls.caPem, cert: deps.tls.certPem, key: deps.tls.keyPem });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => agent.destroy(new Error('timed out connecting to the node agent')), AGENT_CONNECT_TIMEOUT_MS);
    agent.once('secureConnect', () => {
      clearTimeout(timer);
      resolve();
    });
    agent.once('error', (err) => {
      clearTimeout(timer);
      reject(errors.serviceUnavailable(`error dialing node agent: ${err.message}`));
    });
  });
  const lines = [`${req.method} ${agentPath(kind, pod, container, query)} HTTP/1.1`, `Host: ${endpoint.host}:${endpoint.port}`];
  for (const name of UPGRADE_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined) lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : value}`);
  }
  agent.write(`${lines.join('\r\n')}\r\n\r\n`);
  const client = req.socket as Duplex;
  // From here the connection is a byte pipe: the agent's 101 (or its error) goes straight back.
  res.removeAllListeners('finish');
  res.detachSocket(client as never);
  const head = upgradeHead(req);
  if (head.length) agent.write(head);
  client.pipe(agent);
  agent.pipe(client);
  const close = () => {
    client.destroy();
    agent.destroy();
  };
  client.on('error', close);
  agent.on('error', close);
  client.on('close', close);
  agent.on('close', close);
}

/** The handlers, keyed as ApiDeps.subresources wants them. */
export function podStreamHandlers(deps: NodeProxyDeps): Map<string, SubresourceHandler> {
  return new Map<string, SubresourceHandler>([
    ['/pods/log', (args) => proxyLog(deps, args)],
    ['/pods/exec', (args) => proxyUpgrade(deps, 'exec', args)],
    ['/pods/attach', (args) => proxyUpgrade(deps, 'attach', args)],
    ['/pods/portforward', (args) => proxyUpgrade(deps, 'portForward', args)],
  ]);
}
