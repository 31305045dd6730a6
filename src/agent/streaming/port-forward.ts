// Port forwarding as kubectl 1.32 does it: SPDY/3.1 streams (tunnelled in a
// WebSocket, or over a raw upgrade); each forwarded connection is a pair of
// streams with the same requestID: "error" (our messages) and "data" (bytes).
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../lib/log.ts';
import { SpdySession, type SpdyStream, type Transport } from './spdy/session.ts';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** The WebSocket subprotocol of SPDY tunnelled in WebSocket (kubectl's default since 1.31). */
export const TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;
/** How long a stream waits for its partner before the pair is dropped (the kubelet's streamCreationTimeout). */
const PAIR_TIMEOUT_MS = 30_000;

type Pair = { error?: SpdyStream; data?: SpdyStream; timer: NodeJS.Timeout };

/**
 * Serves port-forward streams over one transport. `dial(port)` connects to
 * the port inside the pod; failures are reported on the error stream.
 */
export function servePortForward(args: { transport: Transport; dial(port: number): Socket; log: Logger }): SpdySession {
  const pairs = new Map<string, Pair>();
  const session = new SpdySession(args.transport, (stream) => {
    const requestId = stream.headers.requestid ?? '';
    const type = stream.headers.streamtype;
    if (type !== 'error' && type !== 'data') return stream.reset();
    let pair = pairs.get(requestId);
    if (!pair) {
      pair = {
        timer: setTimeout(() => {
          pairs.delete(requestId);
          pair?.error?.reset();
          pair?.data?.reset();
        }, PAIR_TIMEOUT_MS),
      };
      pairs.set(requestId, pair);
    }
    if (pair[type]) return stream.reset();
    pair[type] = stream;
    if (type === 'error') stream.incoming.resume(); // the client sends nothing here; drain its FIN
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      forward(pair.error, pair.data, args);
    }
  });
  return session;
}

function forward(errorStream: SpdyStream, data: SpdyStream, args: { dial(port: number): Socket; log: Logger }): void {
  const port = Number(data.headers.port);
  const fail = (message: string) => {
    errorStream.write(Buffer.from(message));
    errorStream.end();
    data.end();
  };
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`invalid port: ${data.headers.port}`);
    return;
  }
  const socket = args.dial(port);
  let connected = false;
  socket.on('connect', () => {
    connected = true;
  });
  socket.on('data', (chunk: Buffer) => data.write(chunk));
  socket.on('end', () => {
    data.end();
    errorStream.end();
  });
  socket.on('error', (err) => {
    args.log.debug('port-forward connection failed', { port, err });
    if (!connected) fail(`error forwarding port ${port} to pod: ${err.message}`);
    else {
      data.end();
      errorStream.end();
    }
  });
  data.incoming.on('data', (chunk: Buffer) => socket.write(chunk));
  data.incoming.on('end', () => socket.end());
  data.incoming.on('close', () => {
    if (!data.incoming.readableEnded) socket.destroy(); // reset by the client
  });
}

/** Dials a TCP port on an address (the pod's IP). */
export function tcpDialer(host: string): (port: number) => Socket {
  return (port) => connect({ host, port });
}
