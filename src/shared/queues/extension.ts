import { z } from 'zod';
import type { DefaultJobOptions } from 'bullmq';
import { RETENTION, jobId } from './common.ts';

export const EXTENSION_QUEUE = 'extension';

/**
 * Rows whose identity is in place wait in a ready list; a `flush` job (delayed by the linger
 * time) cuts them into batches of up to 100 operations, each a `batch` job posting one Bulk.
 */
export const extensionJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('flush') }),
  z.object({ kind: z.literal('batch'), batchId: z.string().min(1) }),
]);

export type ExtensionJob = z.infer<typeof extensionJobSchema>;

export const extensionJobOptions: DefaultJobOptions = {
  ...RETENTION,
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
};

export function batchJobId(batchId: string): string {
  return jobId('batch', batchId);
}

/** One flush per linger window: concurrent producers of ready rows share it. */
export function flushJobId(windowStart: number): string {
  return jobId('flush', windowStart);
}
