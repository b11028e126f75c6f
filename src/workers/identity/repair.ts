import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { enqueueOpenRows } from '../../shared/guards/drop-control.ts';
import { repairLockKey } from '../../shared/keys.ts';
import { startPeriodic, withRedisLock } from '../periodic.ts';
import type { Ledger } from '../../shared/ledger/ledger.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RedisConnection } from '../../shared/redis.ts';

export interface StrandedRowsRepairDeps {
  ledger: Ledger;
  identityQueue: Pick<Queue, 'addBulk' | 'getJobCounts'>;
  redis: RedisConnection;
  prefix: string;
  log: Logger;
  /** How long the identity queue must stay idle, with the drop unchanged, before rows count as stranded. */
  quietMs: number;
  /** Aborted on shutdown: a check sleeping through its quiet period ends at once. */
  signal?: AbortSignal;
}

/** Drops looked at per check: the most recent ones (a drop older than that is long settled). */
const RECENT_DROPS = 200;

/**
 * The identity stage's safety net. Rows in `pending` or `manager_wait` of a running drop only move
 * when an identity job holds them or a job releases them. If the identity queue has nothing at all
 * (no waiting, delayed or active job) and the drop stays unchanged for `quietMs`, nothing ever
 * will move them: a release was lost (a crash in a window no retry covers). Their open rows are
 * enqueued again; re-processing any open row is safe, as for `provision approve`.
 * One process checks at a time (a Redis lock); returns the rows re-enqueued.
 */
export function createStrandedRowsRepair(deps: StrandedRowsRepairDeps) {
  const lockKey = repairLockKey(deps.prefix);

  async function queueIdle(): Promise<boolean> {
    const counts = await deps.identityQueue.getJobCounts(
      'active',
      'wait',
      'delayed',
      'prioritized',
      'waiting-children',
    );
    return Object.values(counts).every((n) => n === 0);
  }

  /** Running drops with identity work left, by id, with a fingerprint of their counters. */
  async function openDrops(): Promise<Map<string, string>> {
    const open = new Map<string, string>();
    for (const dropId of await deps.ledger.listDrops(RECENT_DROPS)) {
      const view = await deps.ledger.getDrop(dropId);
      if (view?.meta.status !== 'running') continue;
      if ((view.counts.pending ?? 0) + (view.counts.manager_wait ?? 0) === 0) continue;
      open.set(dropId, JSON.stringify(view.counts));
    }
    return open;
  }

  async function runOnce(): Promise<number> {
    return withRedisLock(deps.redis, lockKey, deps.quietMs * 2, repairIfStranded, 0);
  }

  async function repairIfStranded(): Promise<number> {
    if (!(await queueIdle())) return 0;
    const before = await openDrops();
    if (before.size === 0) return 0;
    await sleep(deps.quietMs, undefined, deps.signal ? { signal: deps.signal } : {});
    if (!(await queueIdle())) return 0;
    const after = await openDrops();
    let requeued = 0;
    for (const [dropId, counts] of after) {
      if (before.get(dropId) !== counts) continue;
      const { rows, jobs } = await enqueueOpenRows({ ledger: deps.ledger, identityQueue: deps.identityQueue }, dropId);
      deps.log.warn(
        { dropId, rows, jobs, counts: JSON.parse(counts) as unknown },
        'identity queue idle with open rows: re-enqueued the stranded rows',
      );
      requeued += rows;
    }
    return requeued;
  }

  return { runOnce };
}

/** Runs the repair every `intervalMs` until stopped; `stop` aborts a check in its quiet period. */
export function startStrandedRowsRepair(
  deps: Omit<StrandedRowsRepairDeps, 'signal'>,
  intervalMs: number,
): { stop(): Promise<void> } {
  return startPeriodic('stranded-rows check', intervalMs, deps.log, (signal) =>
    createStrandedRowsRepair({ ...deps, signal }).runOnce(),
  );
}
