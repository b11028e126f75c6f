import { Queue, type ConnectionOptions, type Telemetry } from 'bullmq';
import type { Logger } from '../logger.ts';
import { IDENTITY_QUEUE, identityJobOptions } from './identity.ts';
import { EXTENSION_QUEUE, extensionJobOptions } from './extension.ts';
import { STATUS_QUEUE, statusJobOptions } from './status.ts';
import { PIPELINE_QUEUE_NAMES, queueKeyPrefix } from './keys.ts';

export * from './identity.ts';
export * from './extension.ts';
export * from './status.ts';
export * from './keys.ts';

export const QUEUE_NAMES = PIPELINE_QUEUE_NAMES;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface PipelineQueues {
  identity: Queue;
  extension: Queue;
  status: Queue;
  all: Queue[];
  close(): Promise<void>;
}

/**
 * BullMQ keeps 10,000 events per queue by default (about 1 MB each); nothing of ours reads them
 * (the ledger is the record), so keep enough to look at by hand and no more.
 */
const EVENT_STREAMS = { events: { maxLen: 1_000 } };

/**
 * The three queues with their contract defaults, on one connection, each under its own key prefix
 * derived from `prefix` (see `queueKeyPrefix`): on a cluster they can live on different masters.
 * With `telemetry` (tracing on) every add is a span and carries its context to the job.
 */
export function createQueues(
  connection: ConnectionOptions,
  prefix: string,
  log?: Logger,
  telemetry?: Telemetry,
): PipelineQueues {
  const traced = telemetry ? { telemetry } : {};
  const identity = new Queue(IDENTITY_QUEUE, {
    connection,
    prefix: queueKeyPrefix(prefix, IDENTITY_QUEUE),
    defaultJobOptions: identityJobOptions,
    streams: EVENT_STREAMS,
    ...traced,
  });
  const extension = new Queue(EXTENSION_QUEUE, {
    connection,
    prefix: queueKeyPrefix(prefix, EXTENSION_QUEUE),
    defaultJobOptions: extensionJobOptions,
    streams: EVENT_STREAMS,
    ...traced,
  });
  const status = new Queue(STATUS_QUEUE, {
    connection,
    prefix: queueKeyPrefix(prefix, STATUS_QUEUE),
    defaultJobOptions: statusJobOptions,
    streams: EVENT_STREAMS,
    ...traced,
  });
  const all = [identity, extension, status];
  for (const q of all) q.on('error', (err) => log?.warn({ err, queue: q.name }, 'queue error'));
  return {
    identity,
    extension,
    status,
    all,
    close: async () => {
      await Promise.allSettled(all.map((q) => q.close()));
    },
  };
}
