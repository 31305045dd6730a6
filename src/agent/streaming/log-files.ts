// Reading a container's CRI log file for `kubectl logs`: the current file of
// one container instance, optionally its tail, optionally followed — across
// rotation (the file renamed away and a new one created under the same path)
// until the container stops.
import { once } from 'node:events';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { LogFormatter, type LogOptions, tailStart } from './cri-log.ts';

/** How often a follower looks for new lines, rotation and the container's end; 100 ms feels live in a terminal. */
const FOLLOW_POLL_MS = 100;
/** Read size: large enough to drain a busy log quickly, small enough to stream promptly. */
const READ_CHUNK = 64 * 1024;

/** `<logsDir>/<namespace>_<name>_<uid>/<container>/<restartCount>.log`, the kubelet's layout. */
export function containerLogPath(logsDir: string, pod: { namespace: string; name: string; uid: string }, container: string, restartCount: number): string {
  return join(logsDir, `${pod.namespace}_${pod.name}_${pod.uid}`, container, `${restartCount}.log`);
}

export type LogSink = { write(chunk: string): boolean; once(event: 'drain', listener: () => void): unknown };

export type StreamLogArgs = {
  path: string;
  options: LogOptions;
  out: LogSink;
  /** Asked when a follower reaches the end of the file: false ends the stream. */
  isRunning(): Promise<boolean>;
  signal: AbortSignal;
  /** Called once the stream knows where it starts (after the tail): output from then on will be seen. */
  onPositioned?(): void;
};

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Streams the log at `path` to `out` as `kubectl logs` prints it. Throws ENOENT when there is no such file. */
export async function streamLog(args: StreamLogArgs): Promise<void> {
  const { path, options, out, signal } = args;
  const formatter = new LogFormatter(options);
  let decoder = new StringDecoder('utf8');
  let file: FileHandle = await open(path, 'r');
  let position = 0;
  const emit = async (text: string) => {
    const output = formatter.feed(text);
    if (output && !out.write(output)) await once(out as never, 'drain', { signal }).catch(() => {});
  };
  try {
    if (options.tailLines !== undefined) {
      const whole = await file.readFile();
      position = whole.length;
      const text = decoder.write(whole);
      await emit(text.slice(tailStart(text, options.tailLines)));
    }
    args.onPositioned?.();
    const buffer = Buffer.alloc(READ_CHUNK);
    for (;;) {
      if (signal.aborted || formatter.done) return;
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        await emit(decoder.write(buffer.subarray(0, bytesRead)));
        continue;
      }
      if (!options.follow) return;
      // At the end of this file: rotated away? Then continue in the new file from its start.
      const current = await stat(path).catch(() => undefined);
      if (current && current.ino !== (await file.stat()).ino) {
        await file.close();
        file = await open(path, 'r');
        position = 0;
        decoder = new StringDecoder('utf8');
        continue;
      }
      if (!(await args.isRunning())) {
        // One last look: the container may have written its final lines as it stopped.
        const last = await file.read(buffer, 0, buffer.length, position);
        if (last.bytesRead === 0) return;
        position += last.bytesRead;
        await emit(decoder.write(buffer.subarray(0, last.bytesRead)));
        continue;
      }
      await sleep(FOLLOW_POLL_MS, signal);
    }
  } finally {
    await file.close();
  }
}
