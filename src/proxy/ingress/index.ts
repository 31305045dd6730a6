// The ingress's public surface: startIngress for `skiff server`, and the pure
// pieces (routing, endpoint resolution, header rewriting, TLS selection) for
// tests and benchmarks.
export { startIngress, type IngressOptions, type IngressServer } from './ingress.ts';
export {
  buildRoutingTable,
  routeRequest,
  routeMatches,
  hostName,
  requestPath,
  type BackendRef,
  type Route,
  type RoutingTable,
} from './match.ts';
export { BackendPools, resolveEndpoints, type Endpoint } from './backends.ts';
export {
  servesIngress,
  ensureDefaultIngressClass,
  defaultIngressClass,
  INGRESS_CONTROLLER,
  DEFAULT_INGRESS_CLASS,
  INGRESS_CLASSES,
} from './classes.ts';
export { desiredIngressStatus } from './status.ts';
export { CertificateStore, selfSignedCertificate, tlsAssignments, DEFAULT_CERT_CN } from './tls.ts';
