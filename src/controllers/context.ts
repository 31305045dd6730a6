// What every controller gets: the API client, shared informers, an event
// recorder, the leader's signal and a logger.
import type { Client, EventRecorder, SharedInformers } from '../client/index.ts';
import type { Logger } from '../lib/log.ts';

export type ControllerContext = {
  client: Client;
  informers: SharedInformers;
  recorder: EventRecorder;
  /** Aborts when this process stops leading (or shuts down). */
  signal: AbortSignal;
  log: Logger;
  nodeName: string;
};

/** A controller runs until ctx.signal aborts. */
export type ControllerRunner = (ctx: ControllerContext) => Promise<void>;
