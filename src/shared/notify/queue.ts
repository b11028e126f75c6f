import { Queue, type ConnectionOptions } from 'bullmq';
import { queueKeyPrefix } from '../keys.ts';
import type { Logger } from '../logger.ts';
import { NOTIFY_QUEUE, NOTIFY_TARGETS, notifyJobOptions, type NotifyTarget } from '../queues/notify.ts';

/** The notify queue under QUEUE_PREFIX (a hash tag of its own, like the pipeline's queues). */
export function createNotifyQueue(
  connection: ConnectionOptions,
  prefix: string,
  options: { attempts: number; retryDelayMs: number },
  log?: Logger,
): Queue {
  const queue = new Queue(NOTIFY_QUEUE, {
    connection,
    prefix: queueKeyPrefix(prefix, NOTIFY_QUEUE),
    defaultJobOptions: notifyJobOptions(options.attempts, options.retryDelayMs),
    streams: { events: { maxLen: 1_000 } },
  });
  queue.on('error', (err) => log?.warn({ err, queue: NOTIFY_QUEUE }, 'queue error'));
  return queue;
}

/** The targets configured, and each one's URL. */
export function notifyTargets(config: {
  NOTIFY_WEBHOOK_URL?: string | undefined;
  NOTIFY_SLACK_WEBHOOK_URL?: string | undefined;
}): Partial<Record<NotifyTarget, string>> {
  const urls: Record<NotifyTarget, string | undefined> = {
    webhook: config.NOTIFY_WEBHOOK_URL,
    slack: config.NOTIFY_SLACK_WEBHOOK_URL,
  };
  return Object.fromEntries(NOTIFY_TARGETS.filter((t) => urls[t]).map((t) => [t, urls[t]!]));
}
