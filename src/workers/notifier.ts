import { readTokenRefusal } from '../shared/concur/token-cache.ts';
import { markNotificationsOn, scanForEvents } from '../shared/notify/notifier.ts';
import { createNotifyQueue, notifyTargets } from '../shared/notify/queue.ts';
import { NOTIFY_QUEUE, type NotifyTarget } from '../shared/queues/notify.ts';
import type { Runtime } from '../shared/runtime.ts';
import { startPeriodic } from './periodic.ts';
import { startWorker } from './start-worker.ts';
import { createNotifyProcessor } from './notify-processor.ts';

/** Notifications sent at once by one process: they are few, and must not crowd the pipeline's work. */
const NOTIFY_CONCURRENCY = 2;

/**
 * Drop notifications in a worker process (docs/operations.md#notifications), when
 * NOTIFY_WEBHOOK_URL or NOTIFY_SLACK_WEBHOOK_URL is set: a periodic scan hands new drop events to
 * the `notify` queue and a worker of that queue sends them, each with its own retries. Nothing of
 * it waits in the pipeline's path: a slow or dead endpoint only fills the notify queue.
 */
export function startNotifier(rt: Runtime): boolean {
  const { config, log } = rt;
  const urls = notifyTargets(config);
  const targets = Object.keys(urls) as NotifyTarget[];
  if (targets.length === 0) return false;
  const queue = createNotifyQueue(
    rt.redis,
    config.QUEUE_PREFIX,
    { attempts: config.NOTIFY_ATTEMPTS, retryDelayMs: config.NOTIFY_RETRY_DELAY_MS },
    log,
  );
  rt.shutdown.register('notify queue', () => queue.close());
  // Now, not at the first scan (NOTIFY_POLL_MS later): a drop that ends meanwhile is announced too.
  markNotificationsOn(rt.redis, config.QUEUE_PREFIX, Date.now()).catch((err: unknown) =>
    log.warn({ err }, 'could not record when notifications were turned on; the first scan will'),
  );
  startWorker(rt, NOTIFY_QUEUE, createNotifyProcessor({ urls, timeoutMs: config.NOTIFY_TIMEOUT_MS, log }), {
    concurrency: NOTIFY_CONCURRENCY,
  });
  const scan = startPeriodic('notify scan', config.NOTIFY_POLL_MS, log, () =>
    scanForEvents({
      redis: rt.redis,
      prefix: config.QUEUE_PREFIX,
      ledger: rt.ledger,
      queue,
      targets,
      publicUrl: config.PUBLIC_URL,
      tokenRefusal: () =>
        readTokenRefusal(rt.redis, config.QUEUE_PREFIX, config.CONCUR_CLIENT_ID, config.CONCUR_COMPANY_ID),
      log,
    }),
  );
  rt.shutdown.register('notify scan', () => scan.stop());
  log.info({ targets }, 'drop notifications on');
  return true;
}
