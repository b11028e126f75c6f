import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from '../shared/logger.ts';
import { sendNotification } from '../shared/notify/send.ts';
import { notifyJobSchema, type NotifyTarget } from '../shared/queues/notify.ts';

export interface NotifyProcessorDeps {
  urls: Partial<Record<NotifyTarget, string>>;
  timeoutMs: number;
  log: Logger;
}

/** Sends one notification job (docs/operations.md#notifications); a failure is retried by BullMQ. */
export function createNotifyProcessor(deps: NotifyProcessorDeps): (job: Job) => Promise<{ status: number }> {
  return async (job) => {
    const parsed = notifyJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`notify job ${job.id}: unreadable data`);
    const url = deps.urls[parsed.data.target];
    // The target was configured when the event was queued, and is not now: nothing to send to.
    if (!url) throw new UnrecoverableError(`notify job ${job.id}: no URL for ${parsed.data.target} any more`);
    const status = await sendNotification(parsed.data, url, deps.timeoutMs);
    deps.log.info(
      {
        dropId: parsed.data.event.dropId,
        event: parsed.data.event.event,
        target: parsed.data.target,
        attempt: job.attemptsMade + 1,
      },
      'notification delivered',
    );
    return { status };
  };
}
