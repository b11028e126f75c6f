import { z } from 'zod';
import type { DefaultJobOptions } from 'bullmq';
import { CAPPED_BACKOFF, jobId } from './common.ts';

export const NOTIFY_QUEUE = 'notify';

/** What is announced (docs/operations.md#notifications). */
export const NOTIFY_EVENTS = [
  'drop.held',
  'drop.braked',
  'drop.paused',
  'drop.complete',
  'drop.complete_with_failures',
] as const;
export type NotifyEventType = (typeof NOTIFY_EVENTS)[number];

/** Where an event goes: NOTIFY_WEBHOOK_URL (the event as JSON) or NOTIFY_SLACK_WEBHOOK_URL (a Slack message). */
export const NOTIFY_TARGETS = ['webhook', 'slack'] as const;
export type NotifyTarget = (typeof NOTIFY_TARGETS)[number];

/** The JSON body NOTIFY_WEBHOOK_URL receives: a stable shape (docs/operations.md#notifications). */
export const notifyEventSchema = z.object({
  event: z.enum(NOTIFY_EVENTS),
  dropId: z.string().min(1),
  file: z.string(),
  status: z.string(),
  /** Why the drop is held or paused (the guard's or the operator's words, or Concur's refusal). */
  reason: z.string().optional(),
  /** When the event happened (ISO 8601). */
  at: z.iso.datetime(),
  rows: z.number().int().min(0),
  /** Rows per terminal state, and `failed` (invalid + identity_failed + extension_failed + timed_out). */
  counts: z.record(z.string(), z.number().int().min(0)),
  failed: z.number().int().min(0),
  /** The commonest error codes among failed rows, most frequent first (complete_with_failures). */
  topErrors: z.array(z.object({ code: z.string(), rows: z.number().int().min(0) })).optional(),
  /** The drop page (PUBLIC_URL/#drop=ID); absent without PUBLIC_URL. */
  url: z.string().optional(),
});
export type NotifyEvent = z.infer<typeof notifyEventSchema>;

export const notifyJobSchema = z.object({
  target: z.enum(NOTIFY_TARGETS),
  event: notifyEventSchema,
});
export type NotifyJob = z.infer<typeof notifyJobSchema>;

/**
 * Retries with a growing (capped) delay. A sent notification's job stays a week, so the same
 * event added again by another process meets its id and is not sent twice.
 */
export function notifyJobOptions(attempts: number, retryDelayMs: number): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: CAPPED_BACKOFF, delay: retryDelayMs },
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** One job per drop, event occurrence (`eventKey`) and target. */
export function notifyJobId(dropId: string, eventKey: string, target: NotifyTarget): string {
  return jobId('nt', dropId, eventKey, target);
}
