import { ProvisionStore } from '../../shared/provisions/store.ts';
import { STATUS_QUEUE } from '../../shared/queues/status.ts';
import { describeStatusJob } from '../job-spans.ts';
import type { Stage, StageChore, StageParts } from '../stage.ts';
import { createStatusProcessor, type StatusProcessorDeps } from './processor.ts';
import { startStatusSweep } from './sweep.ts';

export interface StatusStageParts extends StageParts {
  status: StatusProcessorDeps['status'];
  limiter: StatusProcessorDeps['limiter'];
  concurrency?: number;
  /** Tests: where the next checks are enqueued (default: the status queue). */
  statusQueue?: StatusProcessorDeps['statusQueue'];
}

/**
 * The status stage: follows every provision id until Concur says how each row ended, and a sweep
 * that creates again the status checks removed in Bull Board or failed for good, and ends rows at
 * the deadline even when no check runs (docs/operations.md#status-checks-that-are-gone).
 */
export function statusStage(parts: StatusStageParts): Stage & { store: ProvisionStore } {
  const { config, redis, queues, log, ledger } = parts;
  const store = new ProvisionStore(redis, config.QUEUE_PREFIX);
  const processor = createStatusProcessor({
    store,
    ledger,
    status: parts.status,
    limiter: parts.limiter,
    statusQueue: parts.statusQueue ?? queues.status,
    log,
    options: {
      firstDelayMs: config.STATUS_FIRST_DELAY_MS,
      maxDelayMs: config.STATUS_MAX_DELAY_MS,
      deadlineMs: config.STATUS_DEADLINE_MS,
    },
  });
  const chores: StageChore[] = [];
  if (config.STATUS_SWEEP_INTERVAL_MS > 0) {
    chores.push({
      name: 'status sweep',
      start: () =>
        startStatusSweep(
          {
            ledger,
            store,
            statusQueue: queues.status,
            redis,
            prefix: config.QUEUE_PREFIX,
            log,
            deadlineMs: config.STATUS_DEADLINE_MS,
          },
          config.STATUS_SWEEP_INTERVAL_MS,
        ),
    });
  }
  return {
    store,
    queue: STATUS_QUEUE,
    processor: processor as Stage['processor'],
    worker: { concurrency: parts.concurrency ?? config.STATUS_CONCURRENCY, describeJob: describeStatusJob(store) },
    chores,
  };
}
