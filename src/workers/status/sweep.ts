import type { Job, Queue } from 'bullmq';
import type { StatusLedger } from '../../shared/ledger/ports.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RedisConnection } from '../../shared/redis.ts';
import { statusSweepLockKey } from '../../shared/keys.ts';
import type { ProvisionRecord } from '../../shared/provisions/entries.ts';
import type { ProvisionStore } from '../../shared/provisions/store.ts';
import { statusJobId, type StatusJob } from '../../shared/queues/status.ts';
import { startPeriodic, withRedisLock } from '../periodic.ts';
import { settleProvision, timedOutVerdict } from './settle.ts';

export interface StatusSweepDeps {
  ledger: StatusLedger;
  store: Pick<ProvisionStore, 'provisions' | 'statusJobOf' | 'setStatusJob' | 'forgetProvision'>;
  statusQueue: Pick<Queue, 'add' | 'getJob'>;
  redis: RedisConnection;
  prefix: string;
  log: Logger;
  /** STATUS_DEADLINE_MS: a provision submitted longer ago than this has its waiting rows end `timed_out`. */
  deadlineMs: number;
  /** How long one sweep may hold the lock (at least the time it takes). */
  lockMs: number;
  now?: () => number;
}

export interface SweepResult {
  /** Status checks created again because the provision's current one was gone. */
  recreated: number;
  /** Rows that ended `timed_out` because their provision passed the deadline. */
  timedOut: number;
}

/** A queued job that will still run by itself. */
const ALIVE = new Set(['delayed', 'waiting', 'wait', 'prioritized', 'waiting-children']);

/** The check number in a status job id (`st-<provisionId>-<n>`); -1 when there is none. */
export function checkNumberOf(jobId: string | undefined): number {
  const m = jobId === undefined ? null : /-(\d+)$/.exec(jobId);
  return m ? Number(m[1]) : -1;
}

/**
 * The status stage's safety net (docs/operations.md#status-checks-that-are-gone). A provision's
 * rows wait in `extension_submitted` for its chain of status checks; when the current check is
 * gone (removed in Bull Board, or failed every attempt: 401s for minutes), nothing would move
 * them. The sweep creates the next check, and ends the rows of a provision past the deadline,
 * whether or not a check still runs for it (one that runs right now finishes on its own).
 * One process sweeps at a time (a Redis lock), and every add is idempotent: the next check's id
 * is derived from the current one, so a check that moved on meanwhile is never doubled.
 */
export function createStatusSweep(deps: StatusSweepDeps) {
  const now = deps.now ?? Date.now;

  async function sweepOne(p: ProvisionRecord, result: SweepResult): Promise<void> {
    const recorded = await deps.store.statusJobOf(p.provisionId);
    const job: Job | undefined = recorded === undefined ? undefined : await deps.statusQueue.getJob(recorded);
    const state = job ? await job.getState() : 'missing';
    if (state === 'active') return;
    if (now() - p.submittedAt >= deps.deadlineMs) {
      const why = ALIVE.has(state) ? undefined : `its status check was ${state === 'missing' ? 'gone' : state}`;
      const states = await settleProvision(deps, p, new Map(), timedOutVerdict(p.provisionId, deps.deadlineMs, why));
      const n = states.timed_out ?? 0;
      result.timedOut += n;
      if (n > 0)
        deps.log.warn({ provisionId: p.provisionId, rows: n }, 'provision past the status deadline: rows timed out');
      return;
    }
    if (ALIVE.has(state)) return;
    // A check that ran meanwhile may have scheduled its successor: leave that chain alone.
    if ((await deps.store.statusJobOf(p.provisionId)) !== recorded) return;
    const checks = checkNumberOf(recorded) + 1;
    const jobId = statusJobId(p.provisionId, checks);
    const data: StatusJob = { provisionId: p.provisionId, batchId: p.batchId, submittedAt: p.submittedAt, checks };
    await deps.statusQueue.add('status', data, { jobId });
    await deps.store.setStatusJob(p.provisionId, jobId);
    result.recreated += 1;
    deps.log.warn(
      { provisionId: p.provisionId, previousJobId: recorded, previousState: state, jobId },
      'status check was gone: created it again',
    );
  }

  async function sweep(signal?: AbortSignal): Promise<SweepResult> {
    const result: SweepResult = { recreated: 0, timedOut: 0 };
    for await (const p of deps.store.provisions()) {
      signal?.throwIfAborted();
      await sweepOne(p, result);
    }
    return result;
  }

  return {
    /** One sweep, unless another process holds the lock (then nothing: `{0, 0}`). */
    runOnce(signal?: AbortSignal): Promise<SweepResult> {
      return withRedisLock(deps.redis, statusSweepLockKey(deps.prefix), deps.lockMs, () => sweep(signal), {
        recreated: 0,
        timedOut: 0,
      });
    },
  };
}

/** Sweeps every `intervalMs` until stopped. */
export function startStatusSweep(deps: Omit<StatusSweepDeps, 'lockMs'>, intervalMs: number): { stop(): Promise<void> } {
  const sweep = createStatusSweep({ ...deps, lockMs: Math.max(2 * intervalMs, 30_000) });
  return startPeriodic('status sweep', intervalMs, deps.log, (signal) => sweep.runOnce(signal));
}
