// The API server's side of node streaming (kubectl logs/exec/attach/
// port-forward/top): proxies to agents over mutual TLS, and metrics.k8s.io.
import type { ApiServer } from '../index.ts';
import { METRICS_DEFS, metricsHandlers } from './metrics-api.ts';
import { type AgentTls, podStreamHandlers } from './pod-streams.ts';

export { ensureAgentClientCert, issueAgentServingCert, signAgentServingCsr, type CertAndKey, type NodeIdentity } from './certs.ts';
export { agentEndpoint, type AgentEndpoint } from './node-address.ts';
export { pickContainer, type AgentTls } from './pod-streams.ts';
export { serveUpgrades } from './upgrade.ts';

/**
 * Registers pods/log, pods/exec, pods/attach, pods/portforward and the
 * metrics.k8s.io resources on a running API server. `tls` is the cluster CA
 * and the API server's agent client certificate (ensureAgentClientCert).
 */
export function registerNodeProxy(api: Pick<ApiServer, 'objects' | 'registry' | 'store' | 'subresources'>, tls: AgentTls): void {
  const deps = { objects: api.objects, registry: api.registry, store: api.store, tls };
  for (const [key, handler] of [...podStreamHandlers(deps), ...metricsHandlers(deps)]) api.subresources.set(key, handler);
  for (const def of METRICS_DEFS) api.registry.put(def);
}
export { NODE_SERVING_CERT_PATH, registerServingCertSigning } from './serving-cert-endpoint.ts';
