// A joining agent's serving certificate for its streaming port: a new key
// and a CSR sent with the join token to the API server, which signs it with
// the cluster CA (src/apiserver/node-proxy/serving-cert-endpoint.ts).
import { request } from 'node:https';
import { Worker } from 'node:worker_threads';
import { NODE_SERVING_CERT_PATH } from '../apiserver/node-proxy/serving-cert-path.ts';

/** Signing is one local operation on the server; a minute means it is not answering. */
const SIGN_TIMEOUT_MS = 60_000;

export type ServingCertRequest = { server: string; caPem: string; token: string; nodeName: string; nodeIp: string };

/**
 * The CSR and key, made in a short-lived worker thread: the x509 library
 * (with its ASN.1 and dependency-injection helpers) is needed once per
 * start, and a worker's heap goes away with it, so the agent does not carry
 * a few MiB of library for its whole life.
 */
function nodeServingCsrInWorker(nodeName: string, nodeIp: string): Promise<{ csrPem: string; keyPem: string }> {
  const worker = new Worker(new URL('./agent-csr-worker.ts', import.meta.url), { workerData: { nodeName, nodeIp } });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the CSR worker exited (${code}) without a CSR`)));
  });
}

/** Asks the API server to sign this node's serving certificate; throws with the server's reason when refused. */
export async function requestServingCert(o: ServingCertRequest): Promise<{ certPem: string; keyPem: string }> {
  const { csrPem, keyPem } = await nodeServingCsrInWorker(o.nodeName, o.nodeIp);
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
