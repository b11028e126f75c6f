import { Worker, type ConnectionOptions, type Job, type Processor } from 'bullmq';
import { isTokenRefused } from '../shared/concur/errors.ts';
import type { Ledger } from '../shared/ledger/ledger.ts';
import type { Logger } from '../shared/logger.ts';
import { WORKER_SETTINGS } from '../shared/queues/common.ts';
import { queueKeyPrefix } from '../shared/keys.ts';
import type { Tracing } from '../shared/telemetry/tracing.ts';
import { annotateJobSpan, markSpanFailed, type DescribeJob } from './job-spans.ts';
import type { Runtime } from '../shared/runtime.ts';

export interface StartWorkerOptions {
  concurrency: number;
  /** How long a job may run without renewing its lock before another worker takes it over. */
  lockDurationMs?: number;
  /**
   * Called when a job has failed its last attempt (a bug, or Redis gone for long): the stage
   * settles the job's rows so none is left waiting forever.
   */
  onFailedForGood?: (job: Job, err: Error) => Promise<void>;
  /** With tracing on: the rows a job's span names and links to their ingest (docs/operations.md#traces). */
  describeJob?: DescribeJob;
}

/** How long a queue waits before trying Concur's token again after every credential was refused. */
export const TOKEN_REFUSED_PAUSE_MS = 10_000;

/** Where a worker runs: a process's runtime, or a test's Redis and prefix. */
export interface WorkerHost {
  connection: ConnectionOptions;
  /** QUEUE_PREFIX: the queue's own key prefix is derived from it, as createQueues does. */
  prefix: string;
  /** WORKER_LOCK_MS, unless the stage asks for its own. */
  lockMs: number;
  log: Logger;
  tracing?: Pick<Tracing, 'enabled' | 'bullmq'>;
  /** Read by traced jobs (their drops' ingest spans). */
  ledger?: Pick<Ledger, 'dropField'>;
}

/** A runtime as a worker host. */
export function runtimeHost(rt: Runtime): WorkerHost {
  return {
    connection: rt.redis,
    prefix: rt.config.QUEUE_PREFIX,
    lockMs: rt.config.WORKER_LOCK_MS,
    log: rt.log,
    tracing: rt.tracing,
    ledger: rt.ledger,
  };
}

/**
 * A BullMQ worker on the host's connection and the queue's key prefix, with its error listeners,
 * the token-refused pause and the settling of jobs failed for good: every pipeline worker, in a
 * process or a test, is made here.
 */
export function createStageWorker(
  host: WorkerHost,
  queueName: string,
  processor: Processor,
  options: StartWorkerOptions,
): Worker {
  const describe = options.describeJob;
  // Concur refuses every credential (a dead refresh token, code 108): the queue pauses and the
  // job goes back to wait, no attempt spent, no row failed; a working token resumes it.
  const guarded: Processor = async (job, token, signal) => {
    try {
      return await processor(job, token, signal);
    } catch (err) {
      if (!isTokenRefused(err)) throw err;
      await worker.rateLimit(TOKEN_REFUSED_PAUSE_MS);
      throw Worker.RateLimitError();
    }
  };
  const tracing = host.tracing;
  // Three parameters: BullMQ passes the abort signal only to a processor that declares it.
  const run: Processor = tracing?.enabled
    ? async (job, token, signal) => {
        if (describe && host.ledger) await annotateJobSpan(host.ledger, job, describe);
        try {
          return await guarded(job, token, signal);
        } catch (err) {
          markSpanFailed(err);
          throw err;
        }
      }
    : guarded;
  const lockDuration = options.lockDurationMs ?? host.lockMs;
  const worker: Worker = new Worker(queueName, run, {
    connection: host.connection,
    // The same key prefix as createQueues gives this queue.
    prefix: queueKeyPrefix(host.prefix, queueName),
    concurrency: options.concurrency,
    lockDuration,
    // A crashed worker's jobs are found by the stalled check: never check less often than the lock lasts.
    stalledInterval: Math.min(30_000, lockDuration),
    maxStalledCount: 5,
    settings: WORKER_SETTINGS,
    ...(tracing?.bullmq ? { telemetry: tracing.bullmq } : {}),
  });
  const log = host.log.child({ queue: queueName });
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    log.warn(
      {
        jobId: job?.id,
        attempt: job?.attemptsMade,
        err: { message: err.message, code: (err as { code?: string }).code },
      },
      'job failed',
    );
    if (job && options.onFailedForGood && failedForGood(job, err)) {
      options
        .onFailedForGood(job, err)
        .catch((e: unknown) => log.error({ err: e, jobId: job.id }, 'could not settle the rows of a failed job'));
    }
  });
  log.info({ concurrency: options.concurrency }, 'worker started');
  return worker;
}

/**
 * A stage worker in a process: on the runtime's connection, with a shutdown step that lets active
 * jobs finish (a job cut off by the deadline stalls and is retried elsewhere) and a liveness check.
 */
export function startWorker(rt: Runtime, queueName: string, processor: Processor, options: StartWorkerOptions): Worker {
  const worker = createStageWorker(runtimeHost(rt), queueName, processor, options);
  rt.shutdown.register(`${queueName} worker`, () => worker.close());
  rt.health.addCheck(`${queueName} worker`, () => worker.isRunning());
  return worker;
}

/**
 * Whether BullMQ will not run the job again: its last attempt failed, or the error is
 * unrecoverable, which includes a job that stalled more than maxStalledCount times (BullMQ fails
 * it on its next pick-up with attempts to spare).
 */
export function failedForGood(job: Pick<Job, 'attemptsMade' | 'opts'>, err: Pick<Error, 'name'>): boolean {
  return err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}
