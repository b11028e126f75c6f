import { UnrecoverableError, type AdvancedOptions, type DefaultJobOptions, type MinimalJob } from 'bullmq';
import type { z } from 'zod';

/** Finished jobs leave Redis; the ledger keeps the outcome. Failed jobs stay a week for inspection. */
export const RETENTION: Pick<DefaultJobOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** BullMQ forbids ':' in custom job ids; drop ids and row numbers never contain '-'. */
export function jobId(...parts: (string | number)[]): string {
  return parts.join('-');
}

/** The retry backoff every pipeline job uses: exponential from its `delay`, never past the cap. */
export const CAPPED_BACKOFF = 'capped-exponential';
/** The longest wait between two attempts of a job. */
export const BACKOFF_CAP_MS = 15_000;

/**
 * BullMQ's exponential backoff has no ceiling: after a Redis restart or a Concur outage a job
 * could sleep for minutes once things work again, and every row that waits on it (a flush job
 * holds its whole ready list) waits too. Capped, with jitter so retries do not arrive together.
 */
export function cappedBackoff(
  attemptsMade: number,
  _type?: string,
  _err?: Error,
  job?: MinimalJob,
  random: () => number = Math.random,
): number {
  const backoff = job?.opts.backoff;
  const base = typeof backoff === 'number' ? backoff : (backoff?.delay ?? 1_000);
  const full = Math.min(base * 2 ** Math.max(0, attemptsMade - 1), BACKOFF_CAP_MS);
  return Math.round(full * (0.8 + 0.2 * random()));
}

/** Worker settings every pipeline worker needs (the capped backoff above is a custom strategy). */
export const WORKER_SETTINGS: AdvancedOptions = { backoffStrategy: cappedBackoff };

/**
 * A job's data parsed by its queue's schema. `job.data` is `unknown` (an older version may have
 * queued it); data that does not fit fails the job for good: no retry can make it fit.
 */
export function parseJobData<S extends z.ZodType>(
  schema: S,
  queue: string,
  job: { id?: string | undefined; data: unknown },
): z.output<S> {
  const parsed = schema.safeParse(job.data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
  throw new UnrecoverableError(`Bad ${queue} job data (job ${job.id ?? '?'}): ${issues}`);
}
