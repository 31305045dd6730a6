// Cluster DNS's public surface: the server a node runs (startClusterDns), the
// pieces it is made of (index, server, upstream forwarder) for tests and
// benchmarks, and the node plumbing that gives it the kube-dns address.
//
// Decisions: answers follow CoreDNS's kubernetes plugin (TTL 5, SOA
// `ns.dns.<zone>. hostmaster.<zone>.` serial = last change, 7200 1800 86400 5,
// "pods insecure", endpoint names for every service with endpoints). Names
// outside the cluster go to the node's resolv.conf servers (loopback stubs
// included: DNS runs in the node's netns, where they answer) through a cache;
// with forwarding off (`--no-upstream-dns`) they get REFUSED — "this server
// does not do that", shown as such by dig/nslookup and moved past by stub
// resolvers — where CoreDNS without `forward` gives SERVFAIL, which reads as
// a broken server. On a node, DNS listens on the kube-dns ClusterIP held by a
// local dummy interface (addDnsAddress), not behind a DNAT.
export { startClusterDns, feedIndex, parseUpstream, type ClusterDns, type ClusterDnsOptions } from './cluster.ts';
export { startDnsServer, type DnsServer, type DnsServerOptions, type ListenAddress } from './server.ts';
export { ClusterDnsIndex, DNS_SCHEMA_VERSION } from './zone-index.ts';
export { UpstreamResolver, readResolvConf, upstreamsFromResolvConf, type UpstreamServer } from './upstream.ts';
export { RECORD_TTL } from './records.ts';
export { addDnsAddress, removeDnsAddress, DNS_DEVICE, KUBE_DNS_IP } from './node-address.ts';
export { startClusterDnsWorker, type DnsWorker, type DnsWorkerOptions } from './worker.ts';
