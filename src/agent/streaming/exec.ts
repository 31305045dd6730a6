// exec and attach over the remotecommand WebSocket protocol (v5, v4): the
// client's channels become the command's stdin/stdout/stderr/resize, and the
// exit code goes back as a Status on the error channel.
import { PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from '../../lib/log.ts';
import type { ExecStreams } from '../types.ts';
import { CHANNEL, decodeClientMessage, errorStatus, exitStatus, frame } from './channels.ts';
import { type LogSink, streamLog } from './log-files.ts';

export type StreamFlags = { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean };

/** Reads stdin/stdout/stderr/tty from the query (kubectl sends "true"). */
export function streamFlags(query: URLSearchParams): StreamFlags {
  const on = (name: string) => query.get(name) === 'true' || query.get(name) === '1';
  return { stdin: on('stdin'), stdout: on('stdout'), stderr: on('stderr'), tty: on('tty') };
}

/** Resize events as an async iterable, fed by channel 4. */
function resizeQueue(): { push(size: { width: number; height: number }): void; end(): void; iterable: AsyncIterable<{ width: number; height: number }> } {
  const pending: { width: number; height: number }[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(size) {
      pending.push(size);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (pending.length) yield pending.shift()!;
          if (ended) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      },
    },
  };
}

function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState !== ws.OPEN) return callback();
      ws.send(frame(channel, chunk), { binary: true }, () => callback());
    },
  });
}

function finish(ws: WebSocket, status: object): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(frame(CHANNEL.error, JSON.stringify(status)), { binary: true }, () => ws.close(1000));
}

/** Wires one client WebSocket to the client-side streams (stdin and resize from it). */
function clientInput(ws: WebSocket, protocol: string, flags: StreamFlags) {
  const stdin = flags.stdin ? new PassThrough() : undefined;
  const resize = resizeQueue();
  ws.on('message', (data: Buffer) => {
    const message = decodeClientMessage(data, protocol);
    if (message.kind === 'stdin') stdin?.write(message.data);
    else if (message.kind === 'resize') resize.push(message);
    else if (message.kind === 'close' && message.channel === CHANNEL.stdin) stdin?.end();
  });
  ws.on('close', () => {
    stdin?.end();
    resize.end();
  });
  return { stdin, resize };
}

export async function serveExec(args: {
  ws: WebSocket;
  protocol: string;
  flags: StreamFlags;
  command: string[];
  run(command: string[], streams: ExecStreams): Promise<{ exitCode: number }>;
  log: Logger;
}): Promise<void> {
  const { ws, flags } = args;
  const { stdin, resize } = clientInput(ws, args.protocol, flags);
  const stdout = flags.stdout ? channelWriter(ws, CHANNEL.stdout) : undefined;
  const stderr = flags.stderr && !flags.tty ? channelWriter(ws, CHANNEL.stderr) : undefined;
  try {
    const { exitCode } = await args.run(args.command, { stdin, stdout, stderr, tty: flags.tty, resize: flags.tty ? resize.iterable : undefined });
    await Promise.all([stdout, stderr].map((w) => w && new Promise<void>((r) => w.end(r))));
    finish(ws, exitStatus(exitCode));
  } catch (err) {
    args.log.debug('exec failed', { err });
    finish(ws, errorStatus(`failed to exec in container: ${(err as Error).message}`));
  } finally {
    resize.end();
  }
}

/**
 * attach: the container's output from now on (its log, followed) and, when
 * the runtime can, its stdin. Ends when the container stops.
 */
export async function serveAttach(args: {
  ws: WebSocket;
  protocol: string;
  flags: StreamFlags;
  logPath: string;
  isRunning(): Promise<boolean>;
  stdinOf?: () => Promise<NodeJS.WritableStream | undefined>;
}): Promise<void> {
  const { ws, flags } = args;
  // What the client types meanwhile waits in the PassThrough until the container's stdin is open.
  const { stdin } = clientInput(ws, args.protocol, flags);
  const target = flags.stdin ? await args.stdinOf?.().catch(() => undefined) : undefined;
  // Input goes in once the output is being followed, so the answer to it is never missed.
  const connectStdin = () => {
    if (!stdin || !target) return;
    stdin.pipe(target);
    // Our write end only: the container keeps its stdin open, so a later attach can type again.
    target.on('error', () => stdin.unpipe(target));
  };
  const done = new AbortController();
  ws.on('close', () => {
    done.abort();
    (target as { destroy?: () => void } | undefined)?.destroy?.();
  });
  const out = channelWriter(ws, CHANNEL.stdout);
  try {
    await streamLog({
      path: args.logPath,
      options: { follow: true, previous: false, timestamps: false, tailLines: 0 },
      out: out as unknown as LogSink,
      isRunning: args.isRunning,
      signal: done.signal,
      onPositioned: connectStdin,
    });
    finish(ws, exitStatus(0));
  } catch (err) {
    finish(ws, errorStatus(`failed to attach: ${(err as Error).message}`));
  }
}
