// `skiff agent` joining a running `skiff server` as a second node. Node 2
// lives in its own network namespace, joined to the test's by a veth pair
// (192.0.2.1 server side, 192.0.2.2 node 2; documentation addresses, inside
// the namespaces npm test makes). Node 2 gets its streaming certificate
// signed with the join token; host-gw routes join the pod networks.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canRunContainers } from '../../src/agent/runtime/testing.ts';
import { buildTestImages } from '../images/build.ts';
import { httpGet } from './agent-helpers.ts';
import { eventually, type RunResult, startServer, type TestServer } from './harness.ts';

const skip = canRunContainers() ?? false;
const ROOT = new URL('../../', import.meta.url).pathname;
const SERVER_IP = '192.0.2.1';
const NODE2_IP = '192.0.2.2';
const NODE2 = 'node-2';
/** veth ends: the test's namespace side and node 2's. */
const VETH_HOST = 'sk-n2-host';
const VETH_NODE = 'sk-n2-node';
/** Joining (CA check, cert signing, preflight, image import, register) takes a few seconds; allow for a loaded 2-core machine. */
const AGENT_READY_MS = 30_000;
/** Pods start within a second or two here; allow for a loaded machine. */
const RUNNING_MS = 30_000;
/** --node-monitor-grace-period 5s plus the node controller's check interval and some slack. */
const NOT_READY_MS = 20_000;
/** ip, nsenter, runc, skiff reset: seconds at most. */
const TOOL_TIMEOUT_MS = 30_000;

/** Runs a tool without stdin (harness' run() writes stdin, which can EPIPE on tools that exit at once). */
function tool(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: TOOL_TIMEOUT_MS }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
/** Node 2's network namespace: held by a sleeping process (no /run/netns file to collide with or leak). */
let holder: ChildProcess | undefined;
const netnsFile = () => `/proc/${holder!.pid}/ns/net`;
/** A command inside node 2's network namespace (shared mount and pid namespaces: its mounts are visible here). */
const inNode2 = (argv: string[]) => tool('nsenter', [`--net=${netnsFile()}`, ...argv]);

/** Starts the holder and waits until it is in its new network namespace. */
async function makeNode2Netns(): Promise<void> {
  holder = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
  const ours = readlinkSync('/proc/self/ns/net');
  await eventually(async () => {
    try {
      return readlinkSync(netnsFile()) !== ours;
    } catch {
      return false;
    }
  }, 5000, 'node 2 network namespace');
}
const must = async (cmd: string, args: string[]) => {
  const r = await tool(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** Starts `skiff agent` in node 2's namespace; resolves once it says ready. */
function startAgent(args: string[]): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=${netnsFile()}`, process.execPath, join(ROOT, 'bin/skiff.js'), 'agent', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SKIFF_LOG: process.env.SKIFF_LOG ?? 'warn' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready:\n${out}`)), AGENT_READY_MS);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (/node \S+ ready/.test(out)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}:\n${out}`));
    });
  });
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

describe('skiff agent joins a server as a second node', { skip }, () => {
  let s: TestServer;
  let agent: ChildProcess | undefined;
  let dir2 = '';
  let node2Cidr = '';
  const json = async (args: string[]) => JSON.parse(await s.k([...args, '-o', 'json']));
  const ready = (node: { status?: { conditions?: { type: string; status: string }[] } }) =>
    node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const waitRunning = (name: string) =>
    eventually(
      async () => {
        const p = await json(['get', 'pod', name]);
        return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      RUNNING_MS,
      `${name} Running`,
    );

  before(async () => {
    const images = await buildTestImages();
    // Node 2's namespace and the link to it: made before the server, whose node IP is this end.
    await makeNode2Netns();
    await must('ip', ['link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NODE, 'netns', String(holder!.pid)]);
    await must('ip', ['addr', 'add', `${SERVER_IP}/24`, 'dev', VETH_HOST]);
    await must('ip', ['link', 'set', VETH_HOST, 'up']);
    for (const argv of [
      ['ip', 'link', 'set', 'lo', 'up'],
      ['ip', 'addr', 'add', `${NODE2_IP}/24`, 'dev', VETH_NODE],
      ['ip', 'link', 'set', VETH_NODE, 'up'],
    ]) {
      const r = await inNode2(argv);
      assert.equal(r.code, 0, r.stderr);
    }
    s = await startServer(
      ['--bind', '0.0.0.0', '--node-ip', SERVER_IP, '--node-monitor-grace-period', '5s', '--dns-port', '0', '--ingress-http-port', '0', '--ingress-https-port', '0'],
      { agent: true, images: [images.nginx1142, images.busybox] },
    );
    dir2 = mkdtempSync(join(tmpdir(), 'skiff-e2e-node2-'));
    mkdirSync(join(dir2, 'images'));
    for (const file of [images.nginx1142, images.busybox]) copyFileSync(file, join(dir2, 'images', basename(file)));
    const token = readFileSync(join(s.dataDir, 'token'), 'utf8').trim();
    assert.match(token, /^K10[0-9a-f]{64}::/);
    const port = new URL(s.url).port;
    agent = await startAgent([
      '--server', `https://${SERVER_IP}:${port}`,
      '--token', token,
      '--data-dir', dir2,
      '--node-ip', NODE2_IP,
      '--node-name', NODE2,
    ]);
  });

  after(async () => {
    await stopProcess(agent);
    if (dir2) {
      await inNode2([process.execPath, join(ROOT, 'bin/skiff.js'), 'reset', '--data-dir', dir2, '--purge']);
      rmSync(dir2, { recursive: true, force: true });
    }
    holder?.kill('SIGKILL');
    await s?.stop();
  });

  test('node 2 registers, becomes Ready with its own podCIDR, and routes join the pod networks', async () => {
    const node2 = await eventually(async () => {
      const n = await json(['get', 'node', NODE2]).catch(() => undefined);
      return n && ready(n) === 'True' && n.spec?.podCIDR ? n : undefined;
    }, 15_000, 'node 2 Ready');
    node2Cidr = node2.spec.podCIDR;
    const nodes = (await json(['get', 'nodes'])).items;
    assert.equal(nodes.length, 2);
    const node1 = nodes.find((n: { metadata: { name: string } }) => n.metadata.name !== NODE2);
    assert.match(node2Cidr, /^10\.244\.\d+\.0\/24$/);
    assert.notEqual(node2Cidr, node1.spec.podCIDR);
    assert.deepEqual(node2.status.addresses.find((a: { type: string }) => a.type === 'InternalIP'), { type: 'InternalIP', address: NODE2_IP });
    assert.equal(node2.metadata.labels['node-role.kubernetes.io/control-plane'], undefined);
    // host-gw: each side routes the other's pod CIDR via the other's node IP.
    await eventually(async () => (await tool('ip', ['route', 'show', node2Cidr])).stdout.includes(`via ${NODE2_IP}`), 10_000, 'route to node 2');
    await eventually(async () => (await inNode2(['ip', 'route', 'show', node1.spec.podCIDR])).stdout.includes(`via ${SERVER_IP}`), 10_000, 'route to node 1');
  });

  test('a pod pinned to node 2 runs there and serves HTTP on its pod IP: from node 2, node 1 and a pod on node 1', async () => {
    await s.k(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: web2}
spec:
  nodeSelector: {kubernetes.io/hostname: ${NODE2}}
  containers: [{name: web, image: nginx:1.14.2}]
---
apiVersion: v1
kind: Pod
metadata: {name: logger2}
spec:
  nodeName: ${NODE2}
  containers: [{name: main, image: busybox:latest, command: [sh, -c, 'trap "exit 0" TERM; echo hello from node 2; while true; do sleep 1; done']}]
`);
    const web = await waitRunning('web2');
    assert.equal(web.spec.nodeName, NODE2);
    assert.equal(web.status.hostIP, NODE2_IP);
    const prefix = node2Cidr.split('.').slice(0, 3).join('.');
    assert.ok(web.status.podIP.startsWith(`${prefix}.`), `${web.status.podIP} in ${node2Cidr}`);
    const fromNode2 = await eventually(async () => {
      const r = await inNode2(['curl', '-s', '--max-time', '2', `http://${web.status.podIP}/`]);
      return r.code === 0 && r.stdout;
    }, 10_000, 'HTTP from node 2');
    assert.match(fromNode2, /nginx 1\.14\.2/);
    // From the server's namespace: across the veth by the host-gw route, unmasqueraded.
    const fromNode1 = await eventually(() => httpGet(`http://${web.status.podIP}/`), 10_000, 'HTTP from node 1');
    assert.match(fromNode1, /nginx 1\.14\.2/);
    await waitRunning('logger2');
    // Pod to pod across nodes: a pod on the server's node fetches from web2 by pod IP.
    const node1 = (await json(['get', 'nodes'])).items.find((n: { metadata: { name: string } }) => n.metadata.name !== NODE2).metadata.name;
    await s.k(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: client1}
spec:
  nodeName: ${node1}
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: busybox:latest, command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']}]
`);
    await waitRunning('client1');
    // busybox nc, not wget: the test image's static busybox wget exits 139 (SIGSEGV) here.
    const podToPod = await eventually(async () => {
      const r = await s.kubectl(['exec', 'client1', '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${web.status.podIP} 80`]);
      return r.code === 0 && r.stdout;
    }, 10_000, 'HTTP pod to pod across nodes');
    assert.match(podToPod, /nginx 1\.14\.2/);
  });

  test('kubectl logs and exec reach node 2 through the server', async () => {
    // Running can come before the first line reaches the log file.
    const logs = await eventually(async () => {
      const r = await s.kubectl(['logs', 'logger2']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout || undefined;
    }, 10_000, 'logs');
    assert.equal(logs, 'hello from node 2\n');
    const r = await s.kubectl(['exec', 'web2', '--', 'sh', '-c', 'echo hi; echo err >&2; exit 3']);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr.includes('err'), true);
    assert.equal(r.code, 3);
    const cat = await s.kubectl(['exec', '-i', 'logger2', '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'across nodes\n' });
    assert.equal(cat.stdout, 'ACROSS NODES\n');
  });

  test('deleting the pods cleans up on node 2', async () => {
    await s.k(['delete', 'pod', 'web2', 'logger2', 'client1', '--wait=true', '--timeout=30s']);
    const containers = join(dir2, 'agent', 'containers');
    await eventually(async () => !existsSync(containers) || readdirSync(containers).length === 0, 10_000, 'containers removed');
    const netns = join(dir2, 'agent', 'netns');
    await eventually(async () => !existsSync(netns) || readdirSync(netns).length === 0, 10_000, 'pod netns removed');
    const links = await inNode2(['ip', '-o', 'link', 'show']);
    assert.doesNotMatch(links.stdout, /\bskv[0-9a-f]{12}/);
    const runc = await tool('runc', ['--root', join(dir2, 'agent', 'runc'), 'list', '-q']);
    assert.equal(runc.stdout.trim(), '');
  });

  test('stopping the agent turns node 2 NotReady', async () => {
    await stopProcess(agent);
    agent = undefined;
    await eventually(async () => ready(await json(['get', 'node', NODE2])) !== 'True', NOT_READY_MS, 'node 2 NotReady');
    const node1 = (await json(['get', 'nodes'])).items.find((n: { metadata: { name: string } }) => n.metadata.name !== NODE2);
    assert.equal(ready(node1), 'True', 'the server node stays Ready');
  });

  test('skiff reset in node 2 leaves nothing behind', async () => {
    const reset = await inNode2([process.execPath, join(ROOT, 'bin/skiff.js'), 'reset', '--data-dir', dir2]);
    assert.equal(reset.code, 0, reset.stderr);
    const links = await inNode2(['ip', '-o', 'link', 'show']);
    assert.doesNotMatch(links.stdout, /skiff0|\bskv[0-9a-f]{12}/);
    const routes = await inNode2(['ip', 'route', 'show', 'proto', '147']);
    assert.equal(routes.stdout.trim(), '');
    const tables = await inNode2(['nft', 'list', 'tables']);
    assert.doesNotMatch(tables.stdout, /skiff/);
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(dir2));
    assert.deepEqual(mounts, []);
    const runcRoot = join(dir2, 'agent', 'runc');
    assert.ok(!existsSync(runcRoot) || readdirSync(runcRoot).length === 0, 'no runc containers left');
  });
});
