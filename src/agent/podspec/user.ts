// The process user: securityContext (container over pod) or the image's USER
// ("uid", "name", "uid:gid", "name:group"), names resolved against the image's
// /etc/passwd and /etc/group as containerd does; supplementary groups are the
// primary gid, the user's groups in /etc/group, supplementalGroups and fsGroup.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerConfigError, type Json } from './types.ts';

export type PasswdEntry = { name: string; uid: number; gid: number; home: string };
export type GroupEntry = { name: string; gid: number; members: string[] };
export type ProcessUser = { uid: number; gid: number; additionalGids?: number[] };

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (f.length < 4 || !Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0], uid, gid, home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = Number(f[2]);
    if (f.length < 3 || !Number.isInteger(gid)) continue;
    out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

/** The image's /etc/passwd and /etc/group (empty when missing: scratch images have none). */
export async function readUserDb(rootfs: string): Promise<{ passwd: PasswdEntry[]; group: GroupEntry[] }> {
  const read = (file: string) => readFile(join(rootfs, 'etc', file), 'utf8').catch(() => '');
  return { passwd: parsePasswd(await read('passwd')), group: parseGroup(await read('group')) };
}

const NUMERIC = /^\d+$/;

function effective(pod: Json, container: Json, field: string): number | undefined {
  const value = container.securityContext?.[field] ?? pod.spec?.securityContext?.[field];
  return typeof value === 'number' ? value : undefined;
}

/** The user the image declares ("" = root), as uid/gid; names looked up in the image's files. */
function imageUser(user: string, db: { passwd: PasswdEntry[]; group: GroupEntry[] }): { uid: number; gid: number; name?: string } {
  const [userPart, groupPart] = user === '' ? ['0', undefined] : user.split(':', 2);
  let uid: number;
  let gid: number;
  let name: string | undefined;
  if (NUMERIC.test(userPart)) {
    uid = Number(userPart);
    const entry = db.passwd.find((p) => p.uid === uid);
    gid = entry?.gid ?? 0;
    name = entry?.name;
  } else {
    const entry = db.passwd.find((p) => p.name === userPart);
    if (!entry) throw new ContainerConfigError(`unable to find user ${userPart}: no matching entries in passwd file`);
    ({ uid, gid, name } = entry);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else {
      const entry = db.group.find((g) => g.name === groupPart);
      if (!entry) throw new ContainerConfigError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = entry.gid;
    }
  }
  return { uid, gid, name };
}

/**
 * Resolves the process user. `image` is the image config's USER. Throws
 * ContainerConfigError for an unknown name or a runAsNonRoot violation, with
 * the kubelet's messages.
 */
export function resolveUser(options: {
  pod: Json;
  container: Json;
  imageUserSpec?: string;
  db: { passwd: PasswdEntry[]; group: GroupEntry[] };
}): ProcessUser {
  const { pod, container, db } = options;
  const runAsUser = effective(pod, container, 'runAsUser');
  const runAsGroup = effective(pod, container, 'runAsGroup');
  const nonRoot = container.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
  const imageSpec = options.imageUserSpec ?? '';
  const where = `(pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})", container: ${container.name})`;
  if (nonRoot === true) {
    if (runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy ${where}`);
    if (runAsUser === undefined) {
      const userPart = imageSpec.split(':')[0];
      if (userPart !== '' && !NUMERIC.test(userPart)) {
        throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${userPart}), cannot verify user is non-root ${where}`);
      }
      if (userPart === '' || Number(userPart) === 0) {
        throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
      }
    }
  }
  let resolved: { uid: number; gid: number; name?: string };
  if (runAsUser !== undefined) {
    const entry = db.passwd.find((p) => p.uid === runAsUser);
    resolved = { uid: runAsUser, gid: entry?.gid ?? 0, name: entry?.name };
  } else {
    resolved = imageUser(imageSpec, db);
  }
  if (runAsGroup !== undefined) resolved.gid = runAsGroup;
  const gids = [resolved.gid];
  // Supplementary groups from /etc/group (Kubernetes' default "Merge" policy; "Strict" skips them), except a group named like the user.
  const strict = pod.spec?.securityContext?.supplementalGroupsPolicy === 'Strict';
  if (resolved.name && !strict) {
    for (const g of db.group) if (g.name !== resolved.name && g.members.includes(resolved.name)) gids.push(g.gid);
  }
  for (const g of pod.spec?.securityContext?.supplementalGroups ?? []) gids.push(g);
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  if (typeof fsGroup === 'number') gids.push(fsGroup);
  return { uid: resolved.uid, gid: resolved.gid, additionalGids: [...new Set(gids)] };
}
