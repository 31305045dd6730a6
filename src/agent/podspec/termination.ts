// The termination-message file: an empty, world-writable host file bound at
// the container's terminationMessagePath, one per container start.
import { chmod, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

/** Anyone in the container may write its message, whatever user it runs as (Kubernetes makes it 0666). */
const MESSAGE_FILE_MODE = 0o666;

/** Creates `<podDir>/containers/<name>/<restartCount>` (emptied) and returns its path. */
export async function prepareTerminationMessageFile(options: { podDir: string; containerName: string; restartCount: number }): Promise<string> {
  // Container names are DNS labels; anything else must not become a path.
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.containerName)) {
    throw new Error(`invalid container name "${options.containerName}"`);
  }
  const dir = join(options.podDir, 'containers', options.containerName);
  await mkdir(dir, { recursive: true });
  const path = join(dir, String(options.restartCount));
  await (await open(path, 'w', MESSAGE_FILE_MODE)).close();
  await chmod(path, MESSAGE_FILE_MODE);
  return path;
}
