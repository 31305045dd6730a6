import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HostLocalIpam, IpamExhaustedError, type IpamState, allocate, normalizeState, podRange, release } from './ipam.ts';

const empty = (cidr: string): IpamState => ({ cidr, allocations: {} });

describe('ipam (pure)', () => {
  test('skips network and gateway; the first pod gets .2', () => {
    const { ip } = allocate(empty('10.244.0.0/24'), 'a');
    assert.equal(ip, '10.244.0.2');
  });

  test('the same uid keeps its address', () => {
    const one = allocate(empty('10.244.0.0/24'), 'a');
    const again = allocate(one.state, 'a');
    assert.equal(again.ip, one.ip);
    assert.equal(again.state, one.state);
  });

  test('round-robin: a freed address is reused last', () => {
    let s = empty('10.244.0.0/24');
    s = allocate(s, 'a').state; // .2
    s = allocate(s, 'b').state; // .3
    s = release(s, 'a');
    const c = allocate(s, 'c');
    assert.equal(c.ip, '10.244.0.4');
  });

  test('a /29 hands out exactly .2–.6, never network, gateway or broadcast, then fails clearly', () => {
    let s = empty('10.0.0.0/29');
    const ips: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = allocate(s, `pod${i}`);
      s = r.state;
      ips.push(r.ip);
    }
    assert.deepEqual(ips, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    assert.throws(
      () => allocate(s, 'one-too-many'),
      (err: Error) => err instanceof IpamExhaustedError && /no free pod address in 10\.0\.0\.0\/29: all 5 usable/.test(err.message),
    );
    // Wrap-around after a release finds the hole.
    s = release(s, 'pod1');
    assert.equal(allocate(s, 'late').ip, '10.0.0.3');
  });

  test('release of an unknown uid is a no-op', () => {
    const s = empty('10.244.0.0/24');
    assert.equal(release(s, 'nobody'), s);
  });

  test('normalizeState drops addresses outside a changed podCIDR and duplicates', () => {
    const stored: IpamState = {
      cidr: '10.244.1.0/24',
      last: '10.244.1.9',
      allocations: { a: '10.244.1.5', b: '10.244.0.7', c: '10.244.0.1', d: '10.244.0.7', e: 'garbage' },
    };
    const s = normalizeState(stored, '10.244.0.0/24');
    assert.deepEqual(s, { cidr: '10.244.0.0/24', allocations: { b: '10.244.0.7' } });
  });

  test('podRange rejects blocks with no room for a pod', () => {
    assert.throws(() => podRange('10.0.0.0/31'), /too small/);
    assert.deepEqual(podRange('10.0.0.0/30').first, podRange('10.0.0.0/30').last);
  });
});

describe('HostLocalIpam (persisted)', () => {
  test('allocations survive a new instance; release persists; concurrent assigns never collide', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-ipam-'));
    try {
      const path = join(dir, 'agent', 'ipam.json');
      const ipam = new HostLocalIpam({ path, podCidr: '10.244.0.0/24' });
      const got = await Promise.all(Array.from({ length: 20 }, (_, i) => ipam.assign(`uid-${i}`)));
      assert.equal(new Set(got.map((g) => g.ip)).size, 20);
      assert.deepEqual({ gateway: got[0].gateway, prefixLength: got[0].prefixLength }, { gateway: '10.244.0.1', prefixLength: 24 });

      const again = new HostLocalIpam({ path, podCidr: '10.244.0.0/24' });
      assert.equal((await again.assign('uid-7')).ip, got[7].ip);
      await again.release('uid-7');
      const onDisk = JSON.parse(await readFile(path, 'utf8')) as IpamState;
      assert.equal(onDisk.allocations['uid-7'], undefined);
      assert.equal(Object.keys(onDisk.allocations).length, 19);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a corrupt file is a clear error, not a silent reset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-ipam-'));
    try {
      const path = join(dir, 'ipam.json');
      await writeFile(path, '{not json');
      const ipam = new HostLocalIpam({ path, podCidr: '10.244.0.0/24' });
      await assert.rejects(ipam.assign('x'), /reading .*ipam\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
