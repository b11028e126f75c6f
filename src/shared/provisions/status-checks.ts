import type { Queue } from 'bullmq';
import { statusJobId, type StatusJob } from '../queues/status.ts';
import type { ProvisionStore } from './store.ts';

/** The wait before check number `checks` (0-based): first delay, doubling, capped. */
export function statusDelay(checks: number, firstDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, firstDelayMs * 2 ** Math.min(checks, 30));
}

/**
 * The first status check of a provision (idempotent: deterministic job id, and the provision ->
 * job map is only set when empty, so a retried caller never overwrites a later check). Runs at
 * once when the completion event arrived before the provision was recorded.
 */
export async function enqueueFirstCheck(
  queue: Pick<Queue, 'add'>,
  store: Pick<ProvisionStore, 'takeEarlyEvent' | 'setStatusJob'>,
  provision: { provisionId: string; batchId: string; submittedAt: number },
  firstDelayMs: number,
): Promise<void> {
  const jobId = statusJobId(provision.provisionId, 0);
  const early = await store.takeEarlyEvent(provision.provisionId);
  const data: StatusJob = { ...provision, checks: 0 };
  await queue.add(`status ${provision.provisionId}`, data, { jobId, delay: early ? 0 : firstDelayMs });
  await store.setStatusJob(provision.provisionId, jobId, true);
}
