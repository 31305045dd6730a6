// Worker thread entry: makes the agent's CSR (agent-csr.ts), posts it, ends.
import { parentPort, workerData } from 'node:worker_threads';
import { nodeServingCsr } from './agent-csr.ts';

const { nodeName, nodeIp } = workerData as { nodeName: string; nodeIp: string };
parentPort!.postMessage(await nodeServingCsr(nodeName, nodeIp));
