// A hand-made node for service-proxy tests and benchmarks, inside the
// network namespace the caller already runs in (npm test's, or the
// benchmark's): bridge skiff0 with 10.244.0.1/24, "pod" namespaces on it
// (busybox httpd serving its own name), and an "outside" namespace linked to
// the node by a veth (the node's address 192.168.50.1, the client
// 192.168.50.2) for NodePort traffic from off the pod network. Everything
// stays inside namespaces made here; close() removes them.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from '../../src/client/index.ts';
import { createLogger } from '../../src/lib/log.ts';
import { type ProxyBackend, type ServiceProxy, startServiceProxy } from '../../src/proxy/index.ts';

export const BRIDGE = 'skiff0';
export const GATEWAY = '10.244.0.1';
export const NODE_IP = '192.168.50.1';
export const OUTSIDE_IP = '192.168.50.2';
export const CLUSTER_CIDR = '10.244.0.0/16';

/** A client with a test server's admin credentials (its CA and token from the data dir). */
export function adminClient(server: { url: string; dataDir: string }): Client {
  return createClient({
    server: server.url,
    caPem: readFileSync(join(server.dataDir, 'tls', 'ca.crt'), 'utf8'),
    token: readFileSync(join(server.dataDir, 'admin-token'), 'utf8').trim(),
  });
}

/** The service proxy of the hand-made node, started as a node agent starts it. */
export function startNodeProxy(o: { client: Client; nodeName: string; signal: AbortSignal; backend?: ProxyBackend; logName?: string }): Promise<ServiceProxy> {
  return startServiceProxy({
    client: o.client,
    nodeName: o.nodeName,
    nodeIps: [NODE_IP],
    clusterCidr: CLUSTER_CIDR,
    serviceCidr: '10.96.0.0/12',
    signal: o.signal,
    log: createLogger(o.logName ?? 'proxy'),
    backend: o.backend,
  });
}

function sh(argv: string[], input?: string): string {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export type Pod = { name: string; ip: string; netns: string };

export type Topology = {
  dir: string;
  outside: string;
  /** Adds a pod namespace with an httpd answering "<name>" on port 80 (and `port` if given). */
  addPod(name: string, ip: string, options?: { serve?: boolean }): Pod;
  /** HTTP GET from a namespace (a pod's, the outside one) or from the node (undefined); the body, or "ERR <reason>". */
  get(netns: string | undefined, url: string, timeoutSec?: number): Promise<string>;
  /** Stops a pod's httpd (the pod stays). */
  stopServer(pod: Pod): void;
  close(): void;
};

export function buildTopology(): Topology {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-proxy-topo-'));
  const servers = new Map<string, ChildProcess>();
  sh(['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
  sh(['ip', 'addr', 'add', `${GATEWAY}/24`, 'dev', BRIDGE]);
  sh(['ip', 'link', 'set', BRIDGE, 'up']);
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  const nsPath = (name: string) => join(dir, `ns-${name}`);
  const makeNs = (name: string, batch: string) => {
    const path = nsPath(name);
    writeFileSync(path, '');
    sh(['unshare', `--net=${path}`, 'ip', '-batch', '-'], batch);
    return path;
  };
  const selfNs = `/proc/${process.pid}/ns/net`;
  const outside = makeNs(
    'outside',
    [
      `link add eth0 type veth peer name skout0 netns ${selfNs}`,
      'link set lo up',
      `addr add ${OUTSIDE_IP}/24 dev eth0`,
      'link set eth0 up',
      `route add default via ${NODE_IP}`,
      '',
    ].join('\n'),
  );
  sh(['ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'skout0']);
  sh(['ip', 'link', 'set', 'skout0', 'up']);

  return {
    dir,
    outside,
    addPod(name, ip, options = {}) {
      const veth = `skp${name}`.slice(0, 15);
      const netns = makeNs(
        name,
        [
          `link add eth0 type veth peer name ${veth} netns ${selfNs}`,
          'link set lo up',
          `addr add ${ip}/24 dev eth0`,
          'link set eth0 up',
          `route add default via ${GATEWAY}`,
          '',
        ].join('\n'),
      );
      sh(['ip', 'link', 'set', veth, 'master', BRIDGE, 'up']);
      sh(['ip', 'link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on']);
      const pod = { name, ip, netns };
      if (options.serve !== false) {
        const www = join(dir, `www-${name}`);
        mkdirSync(www, { recursive: true });
        writeFileSync(join(www, 'index.html'), `${name}\n`);
        servers.set(
          name,
          spawn('nsenter', [`--net=${netns}`, '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', www], {
            stdio: 'ignore',
          }),
        );
      }
      return pod;
    },
    get(netns, url, timeoutSec = 2) {
      // curl, not busybox wget: Debian's static busybox wget crashes on this machine outside a container.
      const curl = ['curl', '-sS', '--noproxy', '*', '-m', String(timeoutSec), url];
      const argv = netns ? ['nsenter', `--net=${netns}`, ...curl] : curl;
      return new Promise((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
        });
        child.stderr.on('data', (b: Buffer) => {
          err += b.toString();
        });
        child.on('close', (code) => resolve(code === 0 ? out.trim() : `ERR ${err.trim() || code}`));
      });
    },
    stopServer(pod) {
      servers.get(pod.name)?.kill('SIGKILL');
      servers.delete(pod.name);
    },
    close() {
      for (const child of servers.values()) child.kill('SIGKILL');
      spawnSync('ip', ['link', 'del', BRIDGE]);
      spawnSync('ip', ['link', 'del', 'skout0']);
      for (const name of spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.split('\n')) {
        if (name.startsWith('ns-')) spawnSync('umount', [join(dir, name)]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
