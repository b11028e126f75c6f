import { z } from 'zod';
import type { DefaultJobOptions } from 'bullmq';
import { CAPPED_BACKOFF, RETENTION, jobId } from './common.ts';

export const EXTENSION_QUEUE = 'extension';

/**
 * Rows whose identity is in place wait in a ready list; a `flush` job (delayed by the linger
 * time) cuts them into batches of up to 100 operations, each a `batch` job posting one Bulk.
 */
export const extensionJobSchema = z.discriminatedUnion('kind', [
  /** `fullOnly`: the list reached a full batch; cut only full batches, leave the rest to linger. */
  z.object({ kind: z.literal('flush'), fullOnly: z.boolean().optional() }),
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
 * One flush per generation: every `ready()` between two flushes asks for the same job (BullMQ
 * ignores the duplicates); a flush bumps the generation before it cuts the list, so rows added
 * after the cut ask for the next one. `now` names the early flush of a full list.
 */
export function flushJobId(generation: number, now = false): string {
  return now ? jobId('flush', generation, 'now') : jobId('flush', generation);
}

/**
 * The recovery sweep's flush: a name of its own, so it is never taken for a flush of the same
 * generation that failed for good and still sits in the failed set (which would hold the list).
 */
export function sweepFlushJobId(generation: number, at: number): string {
  return jobId('flush', generation, 'sweep', at);
}
