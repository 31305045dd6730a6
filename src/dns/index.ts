// Cluster DNS's public surface: the server a node runs (startClusterDns), the
// pieces it is made of (index, server, upstream forwarder) for tests and
// benchmarks, and the node plumbing that gives it the kube-dns address.
export { startClusterDns, feedIndex, parseUpstream, type ClusterDns, type ClusterDnsOptions } from './cluster.ts';
export { startDnsServer, type DnsServer, type DnsServerOptions, type ListenAddress } from './server.ts';
export { ClusterDnsIndex, DNS_SCHEMA_VERSION } from './zone-index.ts';
export { UpstreamResolver, readResolvConf, upstreamsFromResolvConf, type UpstreamServer } from './upstream.ts';
export { RECORD_TTL } from './records.ts';
export { addDnsAddress, removeDnsAddress, DNS_DEVICE, KUBE_DNS_IP } from './node-address.ts';
