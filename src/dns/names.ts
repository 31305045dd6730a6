// DNS names in the two forms the server uses: dotted text ("web.default.svc.cluster.local",
// lower case, no trailing dot) for building records, and the wire form as a
// latin1 string ("\x03web\x07default...\x00") as the lookup key, so a query's
// name becomes a key with one slice of its packet and no parsing into labels.
import { isIPv4, isIPv6 } from 'node:net';

/** Dotted name → lower-case wire key. "" is the root. */
export function wireKey(name: string): string {
  let key = '';
  for (const label of name.toLowerCase().split('.')) {
    if (label === '') continue;
    key += String.fromCharCode(label.length) + label;
  }
  return `${key}\x00`;
}

/** Wire key (or any wire-form latin1 name without compression) → dotted name. */
export function dottedName(key: string): string {
  const labels: string[] = [];
  let i = 0;
  while (i < key.length) {
    const len = key.charCodeAt(i);
    if (len === 0) break;
    labels.push(key.slice(i + 1, i + 1 + len));
    i += 1 + len;
  }
  return labels.join('.');
}

/** "10.1.2.3" → "10-1-2-3"; IPv6 as CoreDNS writes it ("fd00::1" → "fd00--1", a trailing "-" gets a "0"). */
export function dashedIp(ip: string): string {
  if (ip.includes('.')) return ip.replaceAll('.', '-');
  const dashed = ip.replaceAll(':', '-');
  return dashed.endsWith('-') ? `${dashed}0` : dashed;
}

/** The address a pod-record label names ("10-1-2-3" → "10.1.2.3"), or undefined. */
export function ipFromDashed(label: string): string | undefined {
  let dashes = 0;
  for (let i = 0; i < label.length; i++) if (label.charCodeAt(i) === 45) dashes++;
  if (dashes === 3 && !label.includes('--')) {
    const ip = label.replaceAll('-', '.');
    return isIPv4(ip) ? ip : undefined;
  }
  const ip = label.replaceAll('-', ':');
  return isIPv6(ip) ? ip : undefined;
}

/** "10.1.2.3" → "3.2.1.10.in-addr.arpa" (IPv4 only: the cluster's reverse zone). */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** The IPv4 address a reverse name stands for ("3.2.1.10.in-addr.arpa" → "10.1.2.3"), or undefined. */
export function ipFromReverse(name: string): string | undefined {
  const suffix = '.in-addr.arpa';
  if (!name.endsWith(suffix)) return undefined;
  const parts = name.slice(0, -suffix.length).split('.');
  if (parts.length !== 4) return undefined;
  const ip = parts.reverse().join('.');
  return isIPv4(ip) ? ip : undefined;
}
