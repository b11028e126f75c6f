import { z } from 'zod';
import type { DefaultJobOptions } from 'bullmq';
import { CAPPED_BACKOFF, RETENTION, jobId } from './common.ts';

export const STATUS_QUEUE = 'status';

/** One job per provision id; it re-enqueues itself with a growing delay until Concur says completed. */
export const statusJobSchema = z.object({
  provisionId: z.string().min(1),
  batchId: z.string().min(1),
  /** Epoch ms of the Bulk submission: the deadline counts from here. */
  submittedAt: z.number().int(),
  /** Number of status checks made so far. */
  checks: z.number().int().min(0).default(0),
  /** Set on the one-off check a `provisionCompleted` event asks for; it never re-enqueues itself. */
  trigger: z.literal('event').optional(),
});

export type StatusJob = z.infer<typeof statusJobSchema>;

export const statusJobOptions: DefaultJobOptions = {
  ...RETENTION,
  attempts: 15,
  backoff: { type: CAPPED_BACKOFF, delay: 2_000 },
};

/** A new id per check (`checks`), or the one-off check an event asks for (`'event'`). */
export function statusJobId(provisionId: string, checks: number | 'event'): string {
  return jobId('st', provisionId, checks);
}
