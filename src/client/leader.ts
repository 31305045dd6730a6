// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
// take the lease when it is free or expired, renew it while leading, step
// down when renewing fails for longer than the renew deadline.
import { randomBytes } from 'node:crypto';
import { type ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Logger } from '../lib/log.ts';
import type { Client, ResourceRef } from './client.ts';
import { sleep } from './sleep.ts';

export const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true };
/** How long a lease holds without renewal (Kubernetes' controller-manager default). */
export const LEASE_DURATION_MS = 15_000;
/** A leader that could not renew for this long steps down, before others may take over. */
export const RENEW_DEADLINE_MS = 10_000;
/** How often to try to acquire or renew. */
export const RETRY_PERIOD_MS = 2_000;

export type LeaderElectionOptions = {
  client: Client;
  /** Lease name, e.g. "skiff-controllers". */
  name: string;
  namespace?: string;
  identity: string;
  signal: AbortSignal;
  log?: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called on becoming leader; `leading` aborts when leadership is lost or on shutdown. */
  onStartedLeading(leading: AbortSignal): void | Promise<void>;
  onStoppedLeading?(): void;
};

/** node name + random suffix, so two processes on one node differ. */
export function leaderIdentity(nodeName: string): string {
  return `${nodeName}_${randomBytes(6).toString('hex')}`;
}

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

/** Runs until the signal aborts: acquire, lead while renewing, step down, try again. Releases the lease on shutdown. */
export async function runLeaderElection(options: LeaderElectionOptions): Promise<void> {
  const { client, name, identity, signal, log } = options;
  const namespace = options.namespace ?? 'kube-system';
  const leaseMs = options.leaseDurationMs ?? LEASE_DURATION_MS;
  const renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS;
  const retryMs = options.retryPeriodMs ?? RETRY_PERIOD_MS;
  // What we last saw of someone else's lease, timed by our own clock (clock skew between nodes does not matter).
  let observed: { record: string; at: number } | undefined;

  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const now = new Date();
    let lease: KubeObject | undefined;
    try {
      lease = await client.get(LEASES, name, { namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (!lease) {
      await client.create(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec });
      return true;
    }
    const current = lease.spec ?? {};
    const record = JSON.stringify([current.holderIdentity, current.renewTime, current.leaseDurationSeconds]);
    if (observed?.record !== record) observed = { record, at: Date.now() };
    const holder = current.holderIdentity ?? '';
    const held = holder !== '' && holder !== identity;
    const duration = (current.leaseDurationSeconds ?? leaseMs / 1000) * 1000;
    if (held && observed.at + duration > Date.now()) return false;
    const next = { ...spec, leaseTransitions: current.leaseTransitions ?? 0 };
    if (holder === identity) next.acquireTime = current.acquireTime ?? spec.acquireTime;
    else next.leaseTransitions += 1;
    await client.update(LEASES, { ...lease, spec: next }); // resourceVersion in lease: optimistic concurrency
    observed = undefined;
    return true;
  };

  const attempt = async (): Promise<boolean> => {
    try {
      return await tryAcquireOrRenew();
    } catch (err) {
      if (!signal.aborted) log?.debug('lease attempt failed', { lease: name, err: (err as Error).message, code: (err as ApiError).code });
      return false;
    }
  };

  while (!signal.aborted) {
    if (!(await attempt())) {
      await sleep(retryMs, signal);
      continue;
    }
    log?.info('became leader', { lease: `${namespace}/${name}`, identity });
    const leading = new AbortController();
    const onShutdown = () => leading.abort();
    signal.addEventListener('abort', onShutdown, { once: true });
    const work = Promise.resolve()
      .then(() => options.onStartedLeading(leading.signal))
      .catch((err) => log?.error('leader work failed', { err }));
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(retryMs, signal);
      if (signal.aborted) break;
      if (await attempt()) lastRenew = Date.now();
      else if (Date.now() - lastRenew > renewDeadlineMs) break;
    }
    leading.abort();
    signal.removeEventListener('abort', onShutdown);
    await work;
    options.onStoppedLeading?.();
    if (signal.aborted) {
      await release(client, name, namespace, identity);
      break;
    }
    log?.warn('lost leadership', { lease: `${namespace}/${name}`, identity });
  }
}

/** Gives the lease up so another process need not wait for it to expire. */
async function release(client: Client, name: string, namespace: string, identity: string): Promise<void> {
  try {
    const lease = await client.get(LEASES, name, { namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    const now = microTime(new Date());
    await client.update(LEASES, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now } });
  } catch {
    // The server may already be gone at shutdown; the lease then expires by itself.
  }
}
