// A joining agent's serving certificate for its streaming port: a new key
// and a CSR sent with the join token to the API server, which signs it with
// the cluster CA (src/apiserver/node-proxy/serving-cert-endpoint.ts).
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { webcrypto } from 'node:crypto';
import { request } from 'node:https';
import * as x509 from '@peculiar/x509';
import { exportKeyPem, KEY_ALGORITHM, SIGNING_ALGORITHM } from '../apiserver/certs.ts';
import { NODE_SERVING_CERT_PATH } from '../apiserver/node-proxy/serving-cert-path.ts';

/** Signing is one local operation on the server; a minute means it is not answering. */
const SIGN_TIMEOUT_MS = 60_000;

export type ServingCertRequest = { server: string; caPem: string; token: string; nodeName: string; nodeIp: string };

/** A CSR for CN system:node:<name> naming the node IP, and its key (PEM). */
export async function nodeServingCsr(nodeName: string, nodeIp: string): Promise<{ csrPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=system:node:${nodeName}, O=system:nodes`,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: nodeName }, { type: 'ip', value: nodeIp }])],
  });
  return { csrPem: csr.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** Asks the API server to sign this node's serving certificate; throws with the server's reason when refused. */
export async function requestServingCert(o: ServingCertRequest): Promise<{ certPem: string; keyPem: string }> {
  const { csrPem, keyPem } = await nodeServingCsr(o.nodeName, o.nodeIp);
  const url = new URL(NODE_SERVING_CERT_PATH, o.server);
  const certPem = await new Promise<string>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: o.caPem,
        timeout: SIGN_TIMEOUT_MS,
        headers: { Authorization: `Bearer ${o.token}`, 'Content-Type': 'application/pkcs10', 'Content-Length': Buffer.byteLength(csrPem) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 201) return resolve(body);
          let reason = body;
          try {
            reason = JSON.parse(body).message ?? body;
          } catch {}
          reject(new Error(`the server refused to sign this node's serving certificate (${res.statusCode}): ${reason}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${o.server} signing the serving certificate`)));
    req.on('error', reject);
    req.end(csrPem);
  });
  return { certPem, keyPem };
}
