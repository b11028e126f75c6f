import { z } from 'zod';
import type { DefaultJobOptions } from 'bullmq';
import { CAPPED_BACKOFF, RETENTION, jobId } from './common.ts';

export const EXTENSION_QUEUE = 'extension';

/**
 * Rows whose identity is in place wait in a ready list; a `flush` job (delayed until the first
 * waiting row has lingered) cuts them into batches of up to 100 operations, each a `batch` job
 * posting one Bulk.
 */
export const extensionJobSchema = z.discriminatedUnion('kind', [
  /**
   * `fullOnly`: the list reached a full batch; cut only full batches, leave the rest to linger.
   * `due`: when the first waiting row's linger ends (epoch ms): a partial batch is cut only once its
   * first row is due. Without it (the recovery sweep's flush, or one queued by an older version)
   * every row is due.
   */
  z.object({ kind: z.literal('flush'), fullOnly: z.boolean().optional(), due: z.number().int().optional() }),
  z.object({ kind: z.literal('batch'), batchId: z.string().min(1) }),
]);

export type ExtensionJob = z.infer<typeof extensionJobSchema>;

export const extensionJobOptions: DefaultJobOptions = {
  ...RETENTION,
  // Not kept once complete: the recovery sweep re-enqueues an unsent batch under its own job id,
  // and a kept completed job of that id would swallow it.
  removeOnComplete: true,
  attempts: 15,
  backoff: { type: CAPPED_BACKOFF, delay: 1_000 },
};

export function batchJobId(batchId: string): string {
  return jobId('batch', batchId);
}

/**
 * The early flush of a full list (`now`: every `ready()` that finds a full batch between two flushes
 * asks for the same job, BullMQ ignores the duplicates), and the follow-up of a flush that cut as
 * many batches as it may: a flush bumps the generation before it cuts the list, so a later one gets
 * a job of its own. Rows waiting to fill a batch ask for `lingerFlushJobId` instead.
 */
export function flushJobId(generation: number, now = false): string {
  return now ? jobId('flush', generation, 'now') : jobId('flush', generation);
}

/**
 * The flush for the rows whose first one is due at `due`: every `ready()` and flush that sees the
 * same first row asks for the same job (BullMQ ignores the duplicates); once that row is cut, the
 * next first row has a later due time, so rows added later ask for another job.
 */
export function lingerFlushJobId(due: number): string {
  return jobId('flush', 'at', due);
}

/**
 * The recovery sweep's flush: a name of its own, so it is never taken for a flush of the same
 * generation that failed for good and still sits in the failed set (which would hold the list).
 */
export function sweepFlushJobId(generation: number, at: number): string {
  return jobId('flush', generation, 'sweep', at);
}
