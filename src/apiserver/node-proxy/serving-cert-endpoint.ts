// POST /v1-skiff/node-serving-certificate: a joining agent sends a PKCS#10
// CSR (PEM) with its join token and gets back a serving certificate for its
// streaming port, signed by the cluster CA. Kubernetes does this with a
// CertificateSigningRequest the controller manager approves; skiff signs at
// once, under rules that keep the certificate no stronger than the caller:
// - only node credentials (group system:nodes) may ask;
// - the key is the CSR's (proof of possession is checked), everything else is
//   chosen here: serverAuth only, CN system:node:<name>, O system:nodes;
// - the only IP in the certificate is the address the request comes from, so
//   a caller can never get a certificate for an address it does not hold (the
//   API server dials agents by IP and checks that IP against the certificate).
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { errors } from '../../api/errors.ts';
import { isDNS1123Subdomain } from '../../api/names.ts';
import { NODE_GROUP } from '../auth.ts';
import type { ApiServer } from '../index.ts';
import type { NonResourceHandler } from '../http/deps.ts';
import { readBody } from '../http/body.ts';
import { signAgentServingCsr } from './certs.ts';
import { NODE_SERVING_CERT_PATH } from './serving-cert-path.ts';

export { NODE_SERVING_CERT_PATH };

/** A CSR is well under a kilobyte; anything this large is not one. */
const MAX_CSR_BYTES = 64 * 1024;
const NODE_CN_PREFIX = 'system:node:';

/** The caller's address as the certificate should carry it (IPv4-mapped IPv6 unwrapped). Pure. */
export function peerIp(remoteAddress: string | undefined): string | undefined {
  if (!remoteAddress) return undefined;
  const unwrapped = remoteAddress.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return isIP(unwrapped) ? unwrapped : undefined;
}

/** The node name a CSR asks for and the IPs it lists; throws 400 on a malformed request. */
function readCsr(pem: string): { nodeName: string; ips: string[] } {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw errors.badRequest('the body is not a PEM certificate request (PKCS#10)');
  }
  const cn = csr.subjectName.getField('CN')[0] ?? '';
  if (!cn.startsWith(NODE_CN_PREFIX)) throw errors.badRequest(`the request's CN must be ${NODE_CN_PREFIX}<node name>, not "${cn}"`);
  const nodeName = cn.slice(NODE_CN_PREFIX.length);
  const problems = isDNS1123Subdomain(nodeName);
  if (problems.length > 0) throw errors.badRequest(`node name "${nodeName}": ${problems.join('; ')}`);
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const ips = (san?.names.items ?? []).filter((n) => n.type === 'ip').map((n) => n.value);
  return { nodeName, ips };
}

export function servingCertHandler(tlsDir: string): NonResourceHandler {
  return async ({ req, res, user }) => {
    if (req.method !== 'POST') throw errors.methodNotAllowed();
    if (!user.groups.includes(NODE_GROUP)) throw errors.forbidden(`User "${user.name}" is not a node: only ${NODE_GROUP} may get node serving certificates`);
    const ip = peerIp(req.socket.remoteAddress);
    if (!ip) throw errors.badRequest('cannot tell the address this request comes from');
    const pem = (await readBody(req, MAX_CSR_BYTES)).toString('utf8');
    const wanted = readCsr(pem);
    const foreign = wanted.ips.filter((a) => a !== ip);
    if (foreign.length > 0) {
      throw errors.forbidden(`node IP ${foreign.join(', ')} is not the address this request comes from (${ip}): pass --node-ip ${ip}, or reach the server without NAT`);
    }
    let certPem: string;
    try {
      certPem = await signAgentServingCsr(tlsDir, pem, { nodeName: wanted.nodeName, ips: [ip] });
    } catch (err) {
      throw errors.badRequest((err as Error).message);
    }
    const body = Buffer.from(certPem);
    res.writeHead(201, { 'Content-Type': 'application/x-pem-file', 'Content-Length': body.length });
    res.end(body);
  };
}

/** Serves NODE_SERVING_CERT_PATH on a running API server; `tlsDir` holds the cluster CA and its key. */
export function registerServingCertSigning(api: Pick<ApiServer, 'nonResource'>, tlsDir: string): void {
  api.nonResource.set(NODE_SERVING_CERT_PATH, servingCertHandler(tlsDir));
}
