// Real kernel networking: runs only as root, and only inside a fresh
// network + mount namespace of its own (this file re-executes itself under
// `unshare`), so the bridge, rules and sysctls never touch any other
// namespace — not even the one `npm test` made, which other tests share.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BridgeNetwork, hostVethName, resetNodeNetwork } from './bridge-network.ts';
import { hasCommand, run } from './exec.ts';
import { IpamExhaustedError } from './ipam.ts';
import { NFT_TABLE } from './firewall.ts';

const OWN_NETNS_MARK = 'SKIFF_POD_NETWORK_TEST_NETNS';
const isRoot = process.getuid?.() === 0;
const tools = ['unshare', 'nsenter', 'ip', 'mount', 'busybox'].every(hasCommand);

if (isRoot && tools && process.env[OWN_NETNS_MARK] !== '1') {
  const result = spawnSync(
    'unshare',
    ['--net', '--mount', '--propagation', 'private', '--fork', process.execPath, ...process.execArgv, import.meta.filename, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [OWN_NETNS_MARK]: '1' } },
  );
  process.exit(result.status ?? 1);
}
const skip = !isRoot || !tools ? 'needs root, unshare, nsenter, ip, mount and busybox' : false;

const pod = (uid: string) => ({ uid, namespace: 'default', name: `pod-${uid}` });
const inNetns = (path: string, argv: string[]) => run(['nsenter', `--net=${path}`, ...argv]);
const ping = (from: string | undefined, ip: string) =>
  from ? inNetns(from, ['busybox', 'ping', '-c1', '-W2', ip]) : run(['busybox', 'ping', '-c1', '-W2', ip]);
const links = async () => (JSON.parse(await run(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

describe('BridgeNetwork (real kernel, own network namespace)', { skip }, () => {
  let dataDir = '';
  const podCidr = '10.244.0.0/24';
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'skiff-podnet-'));
    await run(['ip', 'link', 'set', 'lo', 'up']);
  });
  after(async () => {
    await resetNodeNetwork(dataDir).catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  });

  test('two pods: addresses, pod↔pod, node→pod, pod→gateway, hairpin, forwarding, masquerade rule', async () => {
    const net = new BridgeNetwork({ dataDir, podCidr, clusterCidr: '10.244.0.0/16' });
    const t0 = performance.now();
    const [a, b] = await Promise.all([net.setup(pod('a')), net.setup(pod('b'))]);
    const setupMs = performance.now() - t0;
    assert.deepEqual(new Set([a.ip, b.ip]), new Set(['10.244.0.2', '10.244.0.3']));
    assert.equal(a.gateway, '10.244.0.1');
    assert.equal(a.prefixLength, 24);
    assert.equal(a.netnsPath, join(dataDir, 'agent', 'netns', 'a'));

    const eth0 = JSON.parse(await inNetns(a.netnsPath, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0']));
    assert.equal(eth0[0].addr_info[0].local, a.ip);
    assert.equal(eth0[0].mtu, 1500);
    const lo = JSON.parse(await inNetns(a.netnsPath, ['ip', '-j', 'link', 'show', 'dev', 'lo']));
    assert.ok(lo[0].flags.includes('UP'));
    assert.match(await inNetns(a.netnsPath, ['ip', 'route', 'show', 'default']), /default via 10\.244\.0\.1 dev eth0/);

    await ping(a.netnsPath, b.ip);
    await ping(b.netnsPath, a.ip);
    await ping(undefined, a.ip); // node → pod
    await ping(a.netnsPath, '10.244.0.1'); // pod → gateway

    // TCP across pods: a busybox nc server in b, a client in a.
    const server = spawn('nsenter', [`--net=${b.netnsPath}`, 'busybox', 'nc', '-l', '-p', '8080', '-e', 'echo', 'hello-from-b'], { stdio: 'ignore' });
    try {
      let reply = '';
      for (let i = 0; i < 50 && !reply.includes('hello-from-b'); i++) {
        reply = await inNetns(a.netnsPath, ['busybox', 'nc', '-w', '2', b.ip, '8080']).catch(() => '');
        if (!reply) await new Promise((r) => setTimeout(r, 20));
      }
      assert.match(reply, /hello-from-b/);
    } finally {
      server.kill();
    }

    const port = JSON.parse(await run(['ip', '-j', '-d', 'link', 'show', 'dev', hostVethName('a')]))[0];
    assert.equal(port.master, 'skiff0');
    assert.equal(port.linkinfo.info_slave_data.hairpin, true);
    assert.equal((await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim(), '1');
    if (hasCommand('nft')) {
      const rules = await run(['nft', 'list', 'table', 'ip', NFT_TABLE]);
      assert.match(rules, /ip saddr 10\.244\.0\.0\/24 ip daddr != 10\.244\.0\.0\/16 oifname != "skiff0" masquerade/);
    }
    assert.deepEqual((await net.list()).sort(), ['a', 'b']);
    console.log(`# setup of 2 pods in parallel: ${setupMs.toFixed(0)} ms (includes the node bridge and rules)`);

    // Teardown removes the veth, the namespace file and the address; twice is fine.
    const t1 = performance.now();
    await net.teardown('a');
    const teardownMs = performance.now() - t1;
    await net.teardown('a');
    assert.ok(!(await links()).includes(hostVethName('a')));
    assert.ok(!existsSync(a.netnsPath));
    assert.deepEqual(await net.list(), ['b']);
    const ipam = JSON.parse(await readFile(join(dataDir, 'agent', 'ipam.json'), 'utf8'));
    assert.deepEqual(Object.keys(ipam.allocations), ['b']);
    console.log(`# teardown of one pod: ${teardownMs.toFixed(0)} ms`);
  });

  test('masquerade: a pod reaches a host outside the node that has no route back to pods', async () => {
    // "Outside" is a namespace of our own on a veth uplink (192.0.2.0/24, TEST-NET-1), knowing nothing of 10.244/16.
    const net = new BridgeNetwork({ dataDir, podCidr, clusterCidr: '10.244.0.0/16' });
    const p = await net.setup(pod('m'));
    const outside = join(dataDir, 'outside-netns');
    await run(['touch', outside]);
    await run(['unshare', `--net=${outside}`, 'true']);
    try {
      await run(['ip', 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'ext0', 'netns', outside]);
      await run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'uplink0']);
      await run(['ip', 'link', 'set', 'uplink0', 'up']);
      await run(['nsenter', `--net=${outside}`, 'ip', '-batch', '-'], { input: 'link set lo up\naddr add 192.0.2.2/24 dev ext0\nlink set ext0 up\n' });
      await ping(p.netnsPath, '192.0.2.2');
      // Without skiff's rule the reply has nowhere to go: prove the rule is what made it work.
      if (hasCommand('nft')) {
        await run(['nft', 'flush', 'chain', 'ip', NFT_TABLE, 'postrouting']);
        await assert.rejects(run(['nsenter', `--net=${p.netnsPath}`, 'busybox', 'ping', '-c1', '-W1', '192.0.2.2']));
      }
    } finally {
      await run(['ip', 'link', 'del', 'uplink0']).catch(() => {});
      await run(['umount', outside]).catch(() => {});
      await net.teardown('m');
    }
  });

  test('restart idempotence: a new BridgeNetwork gives the same address and keeps the namespace', async () => {
    const first = new BridgeNetwork({ dataDir, podCidr });
    const before = await first.setup(pod('c'));
    const inode = (await run(['stat', '-L', '-c', '%i', before.netnsPath])).trim();
    const second = new BridgeNetwork({ dataDir, podCidr }); // as after an agent restart
    const again = await second.setup(pod('c'));
    assert.deepEqual(again, before);
    assert.equal((await run(['stat', '-L', '-c', '%i', again.netnsPath])).trim(), inode, 'same namespace, not a new one');
    await ping(again.netnsPath, '10.244.0.1');

    // Repair: the host veth vanished (e.g. deleted by hand); setup puts it back in the same namespace.
    await run(['ip', 'link', 'del', 'dev', hostVethName('c')]);
    const repaired = await second.setup(pod('c'));
    assert.equal(repaired.ip, before.ip);
    assert.equal((await run(['stat', '-L', '-c', '%i', repaired.netnsPath])).trim(), inode);
    await ping(repaired.netnsPath, '10.244.0.1');
    await second.teardown('c');
  });

  test('many pods at once; IPAM exhaustion is a clear error', async () => {
    // A /28 has 13 pod addresses (.2–.14). Its own bridge, beside skiff0.
    const smallDir = await mkdtemp(join(tmpdir(), 'skiff-podnet-small-'));
    const small = new BridgeNetwork({ dataDir: smallDir, podCidr: '10.245.0.0/28', bridge: 'skiff1' });
    try {
      const uids = Array.from({ length: 13 }, (_, i) => `s${i}`);
      const t0 = performance.now();
      const results = await Promise.all(uids.map((uid) => small.setup(pod(uid))));
      const perPod = (performance.now() - t0) / uids.length;
      assert.equal(new Set(results.map((r) => r.ip)).size, 13);
      for (const r of results) assert.ok(!['10.245.0.0', '10.245.0.1', '10.245.0.15'].includes(r.ip));
      await assert.rejects(small.setup(pod('one-too-many')), (err: Error) => err instanceof IpamExhaustedError && /10\.245\.0\.0\/28/.test(err.message));
      assert.ok(!(await small.list()).includes('one-too-many'));
      console.log(`# 13 pods set up concurrently: ${perPod.toFixed(1)} ms per pod on average`);
      const t1 = performance.now();
      await Promise.all(uids.map((uid) => small.teardown(uid)));
      console.log(`# 13 pods torn down concurrently: ${((performance.now() - t1) / uids.length).toFixed(1)} ms per pod on average`);
      assert.deepEqual(await small.list(), []);
    } finally {
      await resetNodeNetwork(smallDir, { bridge: 'skiff1' });
      await rm(smallDir, { recursive: true, force: true });
    }
  });

  test('resetNodeNetwork leaves nothing: no namespaces, veths, bridge, rules or allocations', async () => {
    const net = new BridgeNetwork({ dataDir, podCidr });
    await net.setup(pod('d'));
    await net.setup(pod('e'));
    await resetNodeNetwork(dataDir);
    const remaining = await links();
    assert.deepEqual(remaining, ['lo']);
    assert.ok(!existsSync(join(dataDir, 'agent', 'netns')));
    assert.ok(!existsSync(join(dataDir, 'agent', 'ipam.json')));
    assert.doesNotMatch(await readFile('/proc/self/mountinfo', 'utf8'), new RegExp(dataDir));
    if (hasCommand('nft')) assert.doesNotMatch(await run(['nft', 'list', 'tables']), new RegExp(NFT_TABLE));
    if (hasCommand('iptables')) assert.doesNotMatch(await run(['iptables-save']), /SKIFF/);
    assert.deepEqual(await readdir(join(dataDir, 'agent')), []);
    await resetNodeNetwork(dataDir); // idempotent
  });

  test('iptables fallback programs and removes the same rules', { skip: !hasCommand('iptables') }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-podnet-ipt-'));
    try {
      const net = new BridgeNetwork({ dataDir: dir, podCidr: '10.246.0.0/24', clusterCidr: '10.246.0.0/16', firewall: 'iptables' });
      const n = await net.node();
      assert.equal(n.firewall, 'iptables');
      await net.node(); // memoised; a second BridgeNetwork re-applies without duplicating jumps
      await new BridgeNetwork({ dataDir: dir, podCidr: '10.246.0.0/24', clusterCidr: '10.246.0.0/16', firewall: 'iptables' }).node();
      const saved = await run(['iptables-save']);
      assert.match(saved, /-A SKIFF-PODNET-POSTROUTING -s 10\.246\.0\.0\/24 ! -d 10\.246\.0\.0\/16 ! -o skiff0 -j MASQUERADE/);
      assert.equal(saved.match(/-A POSTROUTING .*-j SKIFF-PODNET-POSTROUTING/g)?.length, 1);
      await resetNodeNetwork(dir);
      assert.doesNotMatch(await run(['iptables-save']), /SKIFF/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
