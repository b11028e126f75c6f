import { STATUS_QUEUE } from '../../shared/queues/status.ts';
import { ProvisionStore } from '../../shared/provisions/store.ts';
import { connectConcur, createRuntime, rateLimiter } from '../../shared/runtime.ts';
import { describeStatusJob } from '../job-spans.ts';
import { startWorker } from '../start-worker.ts';
import { createStatusProcessor } from './processor.ts';
import { startStatusSweep } from './sweep.ts';
import { startNotifier } from '../notifier.ts';

export interface StatusWorkerOptions {
  concurrency?: number;
  env?: Record<string, string | undefined>;
}

/** `provision worker status`: follows every provision id until Concur says how each row ended. */
export async function runStatusWorker(options: StatusWorkerOptions = {}): Promise<void> {
  const rt = createRuntime('status-worker', 'worker', options.env);
  const { config, redis, queues, log } = rt;
  const limiter = rateLimiter(rt, 'ups');
  const concur = connectConcur(rt, { limiters: [limiter] });
  const store = new ProvisionStore(redis, config.QUEUE_PREFIX);
  const processor = createStatusProcessor({
    store,
    ledger: rt.ledger,
    status: concur.status,
    limiter,
    statusQueue: queues.status,
    log,
    options: {
      firstDelayMs: config.STATUS_FIRST_DELAY_MS,
      maxDelayMs: config.STATUS_MAX_DELAY_MS,
      deadlineMs: config.STATUS_DEADLINE_MS,
    },
  });
  startWorker(rt, STATUS_QUEUE, processor, {
    concurrency: options.concurrency ?? config.STATUS_CONCURRENCY,
    describeJob: describeStatusJob(store),
  });
  if (config.STATUS_SWEEP_INTERVAL_MS > 0) {
    // A status check removed in Bull Board, or failed for good, is created again; the deadline
    // ends rows even when no check runs (docs/operations.md#status-checks-that-are-gone).
    const sweep = startStatusSweep(
      {
        ledger: rt.ledger,
        store,
        statusQueue: queues.status,
        redis,
        prefix: config.QUEUE_PREFIX,
        log,
        deadlineMs: config.STATUS_DEADLINE_MS,
      },
      config.STATUS_SWEEP_INTERVAL_MS,
    );
    rt.shutdown.register('status sweep', () => sweep.stop());
  }
  // Every worker process announces drop events when notifications are configured (one send per event).
  startNotifier(rt);
  rt.shutdown.installSignalHandlers();
}
