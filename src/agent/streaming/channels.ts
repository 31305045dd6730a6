// The Kubernetes remotecommand WebSocket protocol (exec/attach), channel
// framing as kubectl 1.32 speaks it: every binary message starts with a
// channel byte. v4 and v5 share the channels; v5 adds the close channel
// (255) so the client can end stdin (kubectl cp needs that).

export const PROTOCOL_V5 = 'v5.channel.k8s.io';
export const PROTOCOL_V4 = 'v4.channel.k8s.io';
/** Subprotocols we accept, most preferred first (kubectl 1.32 offers only v5). */
export const EXEC_PROTOCOLS = [PROTOCOL_V5, PROTOCOL_V4];

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export type ChannelMessage =
  | { kind: 'stdin'; data: Buffer }
  | { kind: 'resize'; width: number; height: number }
  | { kind: 'close'; channel: number }
  | { kind: 'ignored' };

/** Picks the subprotocol from the client's offer (Sec-WebSocket-Protocol), or undefined. */
export function chooseProtocol(offered: Iterable<string>, supported: string[]): string | undefined {
  const set = new Set([...offered].map((p) => p.trim()));
  return supported.find((p) => set.has(p));
}

/** A message for the client on one channel. */
export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

/** Decodes a message from the client; closes only exist in v5. */
export function decodeClientMessage(message: Buffer, protocol: string): ChannelMessage {
  if (message.length === 0) return { kind: 'ignored' };
  const channel = message[0];
  const data = message.subarray(1);
  if (channel === CHANNEL.stdin) return { kind: 'stdin', data };
  if (channel === CHANNEL.resize) {
    try {
      const size = JSON.parse(data.toString());
      const width = Number(size.Width ?? size.width);
      const height = Number(size.Height ?? size.height);
      if (Number.isFinite(width) && Number.isFinite(height)) return { kind: 'resize', width, height };
    } catch {
      // A malformed resize is dropped, as the kubelet does.
    }
    return { kind: 'ignored' };
  }
  if (channel === CHANNEL.close && protocol === PROTOCOL_V5 && data.length > 0) return { kind: 'close', channel: data[0] };
  return { kind: 'ignored' };
}

/** The Status written on the error channel when the command ends (what kubectl turns into its exit code). */
export function exitStatus(exitCode: number): object {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command, exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** A Status for a failure before or instead of running the command. */
export function errorStatus(message: string): object {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}
