// hostPath volumes: Kubernetes' type checks (DirectoryOrCreate, Directory,
// FileOrCreate, File, Socket, CharDevice, BlockDevice; "" checks nothing).
import { type Stats, stat } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';

export type PathKind = 'missing' | 'directory' | 'file' | 'socket' | 'char' | 'block' | 'other';

/** What has to happen for a hostPath of this type: nothing, create it, or fail with Kubernetes' message. */
export function hostPathAction(type: string, path: string, kind: PathKind): 'ok' | 'mkdir' | 'create-file' | { error: string } {
  const fail = (what: string) => ({ error: `hostPath type check failed: ${path} is not a ${what}` });
  switch (type) {
    case '':
      return 'ok';
    case 'DirectoryOrCreate':
      if (kind === 'missing') return 'mkdir';
      return kind === 'directory' ? 'ok' : fail('directory');
    case 'Directory':
      return kind === 'directory' ? 'ok' : fail('directory');
    case 'FileOrCreate':
      if (kind === 'missing') return 'create-file';
      return kind === 'file' ? 'ok' : fail('file');
    case 'File':
      return kind === 'file' ? 'ok' : fail('file');
    case 'Socket':
      return kind === 'socket' ? 'ok' : fail('socket file');
    case 'CharDevice':
      return kind === 'char' ? 'ok' : fail('character device');
    case 'BlockDevice':
      return kind === 'block' ? 'ok' : fail('block device');
    default:
      return { error: `${type} is an invalid volume type` };
  }
}

function kindOf(s: Stats): PathKind {
  if (s.isDirectory()) return 'directory';
  if (s.isFile()) return 'file';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'char';
  if (s.isBlockDevice()) return 'block';
  return 'other';
}

export function pathKind(path: string): Promise<PathKind> {
  // Follows symlinks, as the kubelet's checks do.
  return new Promise((resolve) => stat(path, (err, s) => resolve(err ? 'missing' : kindOf(s))));
}

/** Checks (and for the *OrCreate types creates) the path; throws an Error with Kubernetes' message. */
export async function checkHostPath(path: string, type = ''): Promise<void> {
  const action = hostPathAction(type, path, type === '' ? 'other' : await pathKind(path));
  if (action === 'mkdir') await mkdir(path, { recursive: true, mode: 0o755 });
  else if (action === 'create-file') await (await open(path, 'a', 0o644)).close();
  else if (typeof action === 'object') throw new Error(action.error);
}
