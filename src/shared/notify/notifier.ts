import type { Queue } from 'bullmq';
import type { TokenRefusal } from '../concur/token-cache.ts';
import { notifiedKey, notifySinceKey } from '../keys.ts';
import type { DropView, Ledger } from '../ledger/ledger.ts';
import { reportRecords } from '../ledger/report.ts';
import { FAILED_STATES } from '../ledger/states.ts';
import type { Logger } from '../logger.ts';
import { NOTIFY_QUEUE, notifyJobId, type NotifyJob, type NotifyTarget } from '../queues/notify.ts';
import type { RedisConnection } from '../redis.ts';
import { currentEvent, notifyEvent, type DropEventOccurrence } from './events.ts';

export interface NotifierDeps {
  redis: RedisConnection;
  prefix: string;
  ledger: Ledger;
  /** The notify queue (its contract's job options as defaults). */
  queue: Pick<Queue, 'add'>;
  /** The configured targets (NOTIFY_WEBHOOK_URL, NOTIFY_SLACK_WEBHOOK_URL). */
  targets: readonly NotifyTarget[];
  publicUrl?: string | undefined;
  /** Concur's refusal of our credentials (announced as a pause of the running drops). */
  tokenRefusal?: () => Promise<TokenRefusal | undefined>;
  log?: Logger;
  now?: () => number;
}

/** Recent drops looked at per scan: events happen to drops that are moving, which are recent. */
const DROPS_SCANNED = 50;
/** The marks of events announced are kept this long (a drop's events are over long before). */
const SENT_MARK_TTL_S = 30 * 24 * 3600;
/** Failed rows read at most for the top error codes. */
const TOP_ERRORS_SCAN = 100_000;

/**
 * Records when notifications were first on, unless already recorded, and returns that time:
 * events from before it are never announced. A process notes it as soon as it turns them on, so a
 * drop that ends before the first scan is still announced.
 */
export async function markNotificationsOn(redis: RedisConnection, prefix: string, now: number): Promise<number> {
  const key = notifySinceKey(prefix);
  await redis.set(key, String(now), 'NX');
  return Number(await redis.get(key));
}

/**
 * Looks at the recent drops and hands each new event to the notify queue, once per target
 * (docs/operations.md#notifications). Every worker process may run it at the same time: the job
 * id (drop, event occurrence, target) makes a second add of the same event a no-op, and a mark per
 * event, set after the add, saves later scans the work. An add that fails (Redis gone) is tried
 * again on the next scan. Events from before notifications were first on (`notify:since`) are never
 * announced, so turning notifications on does not replay history.
 * Returns the events it enqueued.
 */
export async function scanForEvents(deps: NotifierDeps): Promise<{ dropId: string; key: string }[]> {
  if (deps.targets.length === 0) return [];
  const now = (deps.now ?? Date.now)();
  const since = await markNotificationsOn(deps.redis, deps.prefix, now);
  const refusal = await deps.tokenRefusal?.();
  const enqueued: { dropId: string; key: string }[] = [];
  for (const dropId of await deps.ledger.listDrops(DROPS_SCANNED)) {
    const view = await deps.ledger.getDrop(dropId);
    if (!view) continue;
    const occurrence = currentEvent(view, refusal);
    if (!occurrence || occurrence.at < since) continue;
    const marks = notifiedKey(deps.prefix, dropId);
    if ((await deps.redis.hexists(marks, occurrence.key)) === 1) continue;
    await enqueue(deps, view, occurrence);
    await deps.redis.multi().hset(marks, occurrence.key, String(now)).expire(marks, SENT_MARK_TTL_S).exec();
    enqueued.push({ dropId, key: occurrence.key });
    deps.log?.info({ dropId, event: occurrence.type }, 'drop event handed to the notify queue');
  }
  return enqueued;
}

async function enqueue(deps: NotifierDeps, view: DropView, occurrence: DropEventOccurrence): Promise<void> {
  const topErrors = occurrence.type === 'drop.complete_with_failures' ? await topErrorCodes(deps.ledger, view) : [];
  const event = notifyEvent(view, occurrence, { publicUrl: deps.publicUrl, topErrors });
  for (const target of deps.targets) {
    const data: NotifyJob = { target, event };
    await deps.queue.add(NOTIFY_QUEUE, data, { jobId: notifyJobId(view.meta.id, occurrence.key, target) });
  }
}

/** The five commonest error codes of the drop's failed rows (a row without a code counts under its state). */
export async function topErrorCodes(ledger: Ledger, view: DropView): Promise<{ code: string; rows: number }[]> {
  const counts = new Map<string, number>();
  let seen = 0;
  for await (const r of reportRecords(ledger, view.meta.id, new Set(FAILED_STATES))) {
    const code = r.errorCode || r.state;
    counts.set(code, (counts.get(code) ?? 0) + 1);
    if (++seen >= TOP_ERRORS_SCAN) break;
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([code, rows]) => ({ code, rows }));
}
