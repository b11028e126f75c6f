import type { DefaultJobOptions } from 'bullmq';

/** Finished jobs leave Redis; the ledger keeps the outcome. Failed jobs stay a week for inspection. */
export const RETENTION: Pick<DefaultJobOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** BullMQ forbids ':' in custom job ids; drop ids and row numbers never contain '-'. */
export function jobId(...parts: (string | number)[]): string {
  return parts.join('-');
}
