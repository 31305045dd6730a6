// The per-pod network identity files the runtime bind-mounts into every
// container, as the kubelet writes them: /etc/hosts (Kubernetes-managed,
// with hostAliases), /etc/resolv.conf (from dnsPolicy and dnsConfig) and
// /etc/hostname. Content is computed by pure functions; one thin writer.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../api/types.ts';
import { writeFileAtomic } from './ipam.ts';

/** Kubernetes' limits (validation.MaxDNSNameservers and the expanded search limits the kubelet applies). */
const MAX_NAMESERVERS = 3;
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_CHARS = 2048;
/** A search domain longer than a DNS name makes some resolvers (glibc 2.28) abort; the kubelet drops it. */
const MAX_SEARCH_DOMAIN_CHARS = 253;
/** A hostname is one DNS label. */
const MAX_HOSTNAME_CHARS = 63;
/** The options every ClusterFirst pod gets (the kubelet's defaultDNSOptions). */
const CLUSTER_FIRST_OPTIONS = ['ndots:5'];
export const DEFAULT_CLUSTER_DNS = '10.96.0.10';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
const MANAGED_HOSTS_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';

export type DnsConfig = { nameservers: string[]; searches: string[]; options: string[] };

/** The pod's hostname and, with a subdomain, its domain (`<subdomain>.<ns>.svc.<cluster domain>`). */
export function podHostname(pod: KubeObject, clusterDomain: string): { hostname: string; domain?: string; fqdn?: string } {
  let hostname: string = pod.spec?.hostname || pod.metadata.name || '';
  if (hostname.length > MAX_HOSTNAME_CHARS) hostname = hostname.slice(0, MAX_HOSTNAME_CHARS).replace(/[-.]+$/, '');
  const subdomain: string | undefined = pod.spec?.subdomain;
  if (!subdomain) return { hostname };
  const domain = `${subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}`;
  return { hostname, domain, fqdn: `${hostname}.${domain}` };
}

/** What the container sees as its hostname (the FQDN with setHostnameAsFQDN). */
export function utsHostname(pod: KubeObject, clusterDomain: string): string {
  const h = podHostname(pod, clusterDomain);
  return pod.spec?.setHostnameAsFQDN && h.fqdn ? h.fqdn : h.hostname;
}

function hostAliasLines(pod: KubeObject): string {
  const aliases: { ip: string; hostnames?: string[] }[] = pod.spec?.hostAliases ?? [];
  if (aliases.length === 0) return '';
  return `\n# Entries added by HostAliases.\n${aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`).join('')}`;
}

/** /etc/hosts: the managed file for pod-network pods; the node's own file (plus aliases) for hostNetwork pods. */
export function hostsFileContent(pod: KubeObject, options: { ips: string[]; clusterDomain: string; nodeHosts?: string }): string {
  if (pod.spec?.hostNetwork) return MANAGED_HOSTS_HEADER_HOST_NETWORK + (options.nodeHosts ?? '') + hostAliasLines(pod);
  const { hostname, fqdn } = podHostname(pod, options.clusterDomain);
  const own = options.ips.map((ip) => (fqdn ? `${ip}\t${fqdn}\t${hostname}\n` : `${ip}\t${hostname}\n`)).join('');
  return (
    MANAGED_HOSTS_HEADER +
    '127.0.0.1\tlocalhost\n' +
    '::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\n' +
    'fe00::0\tip6-mcastprefix\n' +
    'fe00::1\tip6-allnodes\n' +
    'fe00::2\tip6-allrouters\n' +
    own +
    hostAliasLines(pod)
  );
}

/** nameserver lines accumulate; the last search and options lines win (as the kubelet reads it). */
export function parseResolvConf(text: string): DnsConfig {
  const config: DnsConfig = { nameservers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const [key, ...rest] = trimmed.split(/\s+/);
    if (key === 'nameserver' && rest[0]) config.nameservers.push(rest[0]);
    if (key === 'search') config.searches = rest.map((s) => s.replace(/\.$/, ''));
    if (key === 'options') config.options = rest;
  }
  return config;
}

const unique = (items: string[]) => [...new Set(items)];

/** dnsConfig options override same-named ones; order: existing first, new ones after. */
function mergeOptions(existing: string[], extra: { name: string; value?: string }[]): string[] {
  const merged = new Map<string, string>();
  for (const op of existing) {
    const i = op.indexOf(':');
    merged.set(i === -1 ? op : op.slice(0, i), i === -1 ? '' : op.slice(i + 1));
  }
  for (const op of extra) merged.set(op.name, op.value ?? '');
  return [...merged].map(([name, value]) => (value ? `${name}:${value}` : name));
}

export type PodDnsInput = {
  /** Cluster DNS Service addresses (the kubelet's --cluster-dns); empty makes ClusterFirst fall back to Default. */
  clusterDns: string[];
  clusterDomain: string;
  /** The node's resolv.conf content; undefined = the kubelet's --resolv-conf="" (localhost, search "."). */
  nodeResolvConf?: string;
};

/** The pod's DNS settings per dnsPolicy and dnsConfig (the kubelet's GetPodDNS), with warnings for limits hit. Pure. */
export function podDnsConfig(pod: KubeObject, input: PodDnsInput): { config: DnsConfig; warnings: string[] } {
  const warnings: string[] = [];
  const policy: string = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const host: DnsConfig =
    input.nodeResolvConf === undefined ? { nameservers: ['127.0.0.1'], searches: ['.'], options: [] } : parseResolvConf(input.nodeResolvConf);
  let config: DnsConfig;
  const clusterFirst = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !pod.spec?.hostNetwork);
  if (policy === 'None') {
    config = { nameservers: [], searches: [], options: [] };
  } else if (clusterFirst && input.clusterDns.length > 0) {
    const ns = pod.metadata.namespace ?? 'default';
    const d = input.clusterDomain;
    const searches = d ? unique([`${ns}.svc.${d}`, `svc.${d}`, d, ...host.searches]) : host.searches;
    config = { nameservers: [...input.clusterDns], searches, options: [...CLUSTER_FIRST_OPTIONS] };
  } else {
    if (clusterFirst) warnings.push(`no cluster DNS address is configured; pod uses the node's DNS ("Default") instead of ${policy}`);
    config = { ...host };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    config = {
      nameservers: unique([...config.nameservers, ...(extra.nameservers ?? [])]),
      searches: unique([...config.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(config.options, extra.options ?? []),
    };
  }
  return { config: fitLimits(config, warnings), warnings };
}

function fitLimits(config: DnsConfig, warnings: string[]): DnsConfig {
  let { nameservers, searches } = config;
  if (nameservers.length > MAX_NAMESERVERS) {
    nameservers = nameservers.slice(0, MAX_NAMESERVERS);
    warnings.push(`Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${nameservers.join(' ')}`);
  }
  let cut = searches.length > MAX_SEARCH_PATHS || searches.some((s) => s.length > MAX_SEARCH_DOMAIN_CHARS);
  searches = searches.slice(0, MAX_SEARCH_PATHS).filter((s) => s.length <= MAX_SEARCH_DOMAIN_CHARS);
  while (searches.join(' ').length > MAX_SEARCH_CHARS) {
    searches = searches.slice(0, -1);
    cut = true;
  }
  if (cut) warnings.push(`Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`);
  return { nameservers, searches, options: config.options };
}

/** resolv.conf text in the order container runtimes write it. Pure. */
export function resolvConfContent(config: DnsConfig): string {
  const lines: string[] = [];
  if (config.searches.length > 0) lines.push(`search ${config.searches.join(' ')}`);
  for (const ns of config.nameservers) lines.push(`nameserver ${ns}`);
  if (config.options.length > 0) lines.push(`options ${config.options.join(' ')}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** Containers may run as any user; these files must be readable by all (as the kubelet writes them, 0644). */
const READABLE = { mode: 0o644 };

export type PodNetworkFilesOptions = {
  dataDir: string;
  /** The pod's address (absent for hostNetwork pods). */
  ip?: string;
  /** Cluster DNS Service address(es); default 10.96.0.10. */
  clusterDns?: string | string[];
  clusterDomain?: string;
  /** Path of the node's resolv.conf (default /etc/resolv.conf); "" = none, as the kubelet's --resolv-conf="". */
  nodeResolvConf?: string;
  /** Path of the node's hosts file, used for hostNetwork pods (default /etc/hosts). */
  nodeHosts?: string;
};

export type PodNetworkFiles = { hostsPath: string; resolvConfPath: string; hostnamePath: string; hostname: string; warnings: string[] };

/** Writes etc-hosts, resolv.conf and hostname under <data-dir>/agent/pods/<uid>/ (atomically; rewritten on every call). */
export async function writePodNetworkFiles(pod: KubeObject, options: PodNetworkFilesOptions): Promise<PodNetworkFiles> {
  const uid = pod.metadata.uid;
  if (!uid) throw new Error('writePodNetworkFiles: the pod has no uid');
  const clusterDomain = options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const clusterDns = options.clusterDns === undefined ? [DEFAULT_CLUSTER_DNS] : [options.clusterDns].flat().filter(Boolean);
  const resolvPath = options.nodeResolvConf ?? '/etc/resolv.conf';
  const nodeResolvConf = resolvPath === '' ? undefined : await readFile(resolvPath, 'utf8').catch(() => '');
  const nodeHosts = pod.spec?.hostNetwork ? await readFile(options.nodeHosts ?? '/etc/hosts', 'utf8').catch(() => '') : undefined;
  const dir = join(options.dataDir, 'agent', 'pods', uid);
  const { config, warnings } = podDnsConfig(pod, { clusterDns, clusterDomain, nodeResolvConf });
  const hostname = utsHostname(pod, clusterDomain);
  const files = { hostsPath: join(dir, 'etc-hosts'), resolvConfPath: join(dir, 'resolv.conf'), hostnamePath: join(dir, 'hostname') };
  await writeFileAtomic(files.hostsPath, hostsFileContent(pod, { ips: options.ip ? [options.ip] : [], clusterDomain, nodeHosts }), READABLE);
  await writeFileAtomic(files.resolvConfPath, resolvConfContent(config), READABLE);
  await writeFileAtomic(files.hostnamePath, `${hostname}\n`, READABLE);
  return { ...files, hostname, warnings };
}
