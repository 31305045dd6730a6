// Watch streams: newline-delimited JSON events over a chunked response.
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../api/errors.ts';
import type { KubeObject, Status } from '../api/types.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
export type WatchEvent<T extends KubeObject = KubeObject> = { type: WatchEventType; object: T };

/** The server no longer has the history asked for (410): the caller must list again. */
export class GoneError extends ApiError {
  constructor(message: string) {
    super(410, 'Expired', message);
  }
}

function errorOf(status: Partial<Status>): ApiError {
  const code = status.code ?? 500;
  const message = status.message ?? 'watch failed';
  if (code === 410) return new GoneError(message);
  return new ApiError(code, status.reason ?? 'InternalError', message, status.details);
}

/**
 * Parses the events of one watch response until it ends. ERROR events throw
 * (GoneError for 410); the response is destroyed when the consumer stops early.
 */
export async function* parseWatchStream(response: IncomingMessage, abort: () => void): AsyncGenerator<WatchEvent> {
  let pending = '';
  try {
    for await (const chunk of response) {
      pending += (chunk as Buffer).toString();
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        if (!line) continue;
        const event = JSON.parse(line) as { type: string; object: KubeObject | Status };
        if (event.type === 'ERROR') throw errorOf(event.object as Status);
        yield event as WatchEvent;
      }
    }
  } catch (err) {
    // An aborted or reset connection ends the stream; the caller decides whether to watch again.
    if (err instanceof ApiError || err instanceof SyntaxError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as Error).name === 'AbortError') return;
    throw err;
  } finally {
    abort();
  }
}
