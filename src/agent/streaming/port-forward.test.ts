import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import { hasCommand } from '../../lib/exec.ts';
import { createLogger } from '../../lib/log.ts';
import { podDialer, type RelayTool, relayArgv, spawnRelay } from './port-forward.ts';

// nsenter into this process's own namespace exercises the real argv; entering needs root.
const ownNetns = `/proc/${process.pid}/ns/net`;
const skip = process.getuid?.() !== 0 || !hasCommand('nsenter') ? 'needs root and nsenter' : false;

/** A server on 127.0.0.1 that answers "got:<what it read>" once the client half-closes. */
async function halfCloseServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let got = '';
    s.on('data', (c) => {
      got += c;
    });
    s.on('end', () => s.end(`got:${got}`));
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

async function readAll(conn: Duplex): Promise<string> {
  let out = '';
  conn.on('data', (c) => {
    out += c;
  });
  await once(conn, 'end');
  return out;
}

const waitFor = async (cond: () => boolean, what: string) => {
  for (const deadline = Date.now() + 3000; !cond(); ) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('relayArgv: nsenter into the pod namespace, then busybox nc or a node relay to 127.0.0.1', () => {
  assert.deepEqual(relayArgv({ netnsPath: '/d/netns/u1', port: 8080, tool: 'busybox' }), ['nsenter', '--net=/d/netns/u1', 'busybox', 'nc', '127.0.0.1', '8080']);
  const node = relayArgv({ netnsPath: '/d/netns/u1', port: 9, tool: 'node', nodePath: '/n/node' });
  assert.deepEqual([...node.slice(0, 4), ...node.slice(5)], ['nsenter', '--net=/d/netns/u1', '/n/node', '-e', '127.0.0.1', '9']);
});

const tools: RelayTool[] = hasCommand('busybox') ? ['busybox', 'node'] : ['node'];
for (const tool of tools) {
  describe(`relay through ${tool}`, { skip }, () => {
    test('data both ways with half-close; a refused port errors with the reason', async () => {
      const { server, port } = await halfCloseServer();
      try {
        const conn = spawnRelay(relayArgv({ netnsPath: ownNetns, port, tool }));
        conn.end('hello');
        assert.equal(await readAll(conn), 'got:hello');
        server.close();
        await once(server, 'close');
        const refused = spawnRelay(relayArgv({ netnsPath: ownNetns, port, tool }));
        refused.resume();
        const [err] = await once(refused, 'error');
        assert.match((err as Error).message, /refused/i);
      } finally {
        server.close();
      }
    });

    test('destroy() kills the relay and the pod side sees the connection go', async () => {
      const { server, port, sockets } = await halfCloseServer();
      try {
        const conn = spawnRelay(relayArgv({ netnsPath: ownNetns, port, tool }));
        conn.write('x');
        await waitFor(() => sockets.size === 1, 'relay connected');
        conn.destroy();
        await waitFor(() => sockets.size === 0, 'pod-side socket closed');
      } finally {
        server.close();
      }
    });
  });
}

describe('podDialer', { skip }, () => {
  const log = createLogger('test');
  test('the pod IP when it answers, else a relay to localhost in the namespace; refused twice is an error', async () => {
    const { server, port } = await halfCloseServer();
    try {
      // Listening on 127.0.0.1 only: "the pod IP" 127.0.0.2 refuses, the relay's 127.0.0.1 answers.
      const viaRelay = await podDialer({ podIp: '127.0.0.2', netnsPath: ownNetns, log })(port);
      assert.ok(!(viaRelay instanceof Socket), 'a relay process');
      viaRelay.end('lo');
      assert.equal(await readAll(viaRelay), 'got:lo');
      const direct = await podDialer({ podIp: '127.0.0.1', netnsPath: ownNetns, log })(port);
      assert.ok(direct instanceof Socket, 'a plain socket');
      direct.end('ip');
      assert.equal(await readAll(direct), 'got:ip');
      server.close();
      await once(server, 'close');
      const none = await podDialer({ podIp: '127.0.0.2', netnsPath: ownNetns, log })(port);
      none.resume();
      assert.match((await once(none, 'error'))[0].message, /refused/i);
    } finally {
      server.close();
    }
  });
});
