import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../logger.ts';
import { IDENTITY_QUEUE, identityJobOptions } from './identity.ts';
import { EXTENSION_QUEUE, extensionJobOptions } from './extension.ts';
import { STATUS_QUEUE, statusJobOptions } from './status.ts';

export * from './identity.ts';
export * from './extension.ts';
export * from './status.ts';

export const QUEUE_NAMES = [IDENTITY_QUEUE, EXTENSION_QUEUE, STATUS_QUEUE] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface PipelineQueues {
  identity: Queue;
  extension: Queue;
  status: Queue;
  all: Queue[];
  close(): Promise<void>;
}

/** The three queues with their contract defaults, on one connection and prefix. */
export function createQueues(connection: ConnectionOptions, prefix: string, log?: Logger): PipelineQueues {
  const identity = new Queue(IDENTITY_QUEUE, { connection, prefix, defaultJobOptions: identityJobOptions });
  const extension = new Queue(EXTENSION_QUEUE, { connection, prefix, defaultJobOptions: extensionJobOptions });
  const status = new Queue(STATUS_QUEUE, { connection, prefix, defaultJobOptions: statusJobOptions });
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
