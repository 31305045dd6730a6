// Header rewriting for the ingress proxy, as pure functions over Node's raw
// header arrays ([name, value, name, value, ...], order, case and repeats
// kept): hop-by-hop headers go (RFC 9110 §7.6.1, plus whatever Connection
// names), forwarding headers are set from what the proxy saw.

/** Headers that describe one connection, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Forwarding headers a client might send to spoof its origin. The proxy sets
 * them itself and drops what clients sent: it does not trust the client side
 * (Traefik's and ingress-nginx's default).
 */
const FORWARDING = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
]);

export type ForwardInfo = {
  /** The client's address as seen on the socket. */
  clientIp: string;
  proto: 'http' | 'https';
  /** The port the client connected to. */
  port: number;
};

/** Header names listed in Connection headers (hop-by-hop too), lowercased; undefined when there are none. */
function connectionTokens(raw: string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 10 || raw[i].toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1].split(',')) {
      const name = t.trim().toLowerCase();
      if (!name) continue;
      tokens ??= new Set();
      tokens.add(name);
    }
  }
  return tokens;
}

/** An IPv4-mapped IPv6 address (::ffff:1.2.3.4) as the IPv4 address it is. */
export function plainIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The headers to send upstream: the client's end-to-end headers (Host kept),
 * X-Forwarded-For/-Proto/-Host/-Port and X-Real-IP set, and for upgrades the
 * Connection: Upgrade and Upgrade headers kept. A request body of unknown
 * length keeps chunked framing.
 */
export function upstreamRequestHeaders(
  raw: string[],
  info: ForwardInfo,
  options: { upgrade?: boolean } = {},
): string[] {
  const listed = connectionTokens(raw);
  const out: string[] = [];
  let host = '';
  let upgrade = '';
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding') chunked = true;
      else if (lower === 'upgrade') upgrade = raw[i + 1];
      continue;
    }
    if (FORWARDING.has(lower) || listed?.has(lower)) continue;
    if (lower === 'host') host = raw[i + 1];
    out.push(name, raw[i + 1]);
  }
  out.push(
    'X-Forwarded-For',
    info.clientIp,
    'X-Forwarded-Proto',
    info.proto,
    'X-Forwarded-Host',
    host,
    'X-Forwarded-Port',
    String(info.port),
    'X-Real-IP',
    info.clientIp,
  );
  if (options.upgrade && upgrade) out.push('Connection', 'Upgrade', 'Upgrade', upgrade);
  else if (chunked) out.push('Transfer-Encoding', 'chunked');
  return out;
}

/** The upstream response's end-to-end headers, for the client. */
export function downstreamResponseHeaders(raw: string[]): string[] {
  const listed = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** Whether a request carries a body (a length above zero or chunked framing). */
export function hasRequestBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}
