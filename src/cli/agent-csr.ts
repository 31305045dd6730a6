// The CSR a joining agent sends for its streaming port's serving certificate
// (the server signs it: src/apiserver/node-proxy/serving-cert-endpoint.ts).
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { exportKeyPem, KEY_ALGORITHM, SIGNING_ALGORITHM } from '../apiserver/certs.ts';

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
