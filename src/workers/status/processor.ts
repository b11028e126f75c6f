import type { Job, Queue } from 'bullmq';
import type { Logger } from '../../shared/logger.ts';
import type { StatusLedger } from '../../shared/ledger/ports.ts';
import type { RowState } from '../../shared/ledger/states.ts';
import { isProvError } from '../../shared/errors.ts';
import { concurErrorKind, isTokenRefused } from '../../shared/concur/errors.ts';
import type { StatusApi } from '../../shared/concur/status.ts';
import type { ProvisionOperation, ProvisionStatus } from '../../shared/concur/schemas.ts';
import type { SharedRateLimiter } from '../../shared/rate-limiter.ts';
import { parseJobData } from '../../shared/queues/common.ts';
import { STATUS_QUEUE, statusJobId, statusJobSchema, type StatusJob } from '../../shared/queues/status.ts';
import { entryOf, parseBulkId, type ProvisionRecord } from '../../shared/provisions/entries.ts';
import type { ProvisionStore } from '../../shared/provisions/store.ts';
import { statusDelay } from '../../shared/provisions/status-checks.ts';
import { settleProvision, timedOutVerdict, verdictFor, type RowVerdict } from './settle.ts';

export interface StatusProcessorOptions {
  /** STATUS_FIRST_DELAY_MS */
  firstDelayMs: number;
  /** STATUS_MAX_DELAY_MS */
  maxDelayMs: number;
  /** STATUS_DEADLINE_MS: rows still pending this long after submission end `timed_out`. */
  deadlineMs: number;
  /** Operations per status page. Default 100. */
  pageSize?: number;
}

export interface StatusProcessorDeps {
  store: ProvisionStore;
  ledger: StatusLedger;
  status: Pick<StatusApi, 'getStatus' | 'iterateOperations'>;
  limiter: Pick<SharedRateLimiter, 'acquire' | 'block'>;
  statusQueue: Pick<Queue, 'add'>;
  log: Logger;
  options: StatusProcessorOptions;
  now?: () => number;
}

export type StatusResult =
  | { outcome: 'gone' }
  | { outcome: 'pending'; nextCheck: number | undefined }
  | { outcome: 'settled'; states: Partial<Record<RowState, number>> };

/**
 * The status stage: one check of one provision. Not completed → the next check is enqueued with a
 * doubling delay (a new job id per check, recorded so the webhook can promote it); past the deadline
 * → the rows are `timed_out`. Completed → every operation is read and each row settles. Idempotent:
 * terminal rows stay, and a settled provision is forgotten so later checks do nothing.
 */
export function createStatusProcessor(deps: StatusProcessorDeps) {
  const { store, ledger, status, limiter, log, options } = deps;
  const now = deps.now ?? Date.now;
  const pageSize = options.pageSize ?? 100;

  const settle = (p: ProvisionRecord, verdicts: Map<string, RowVerdict>, fallback: RowVerdict) =>
    settleProvision({ ledger, store }, p, verdicts, fallback);
  const timedOut = (p: ProvisionRecord, why?: string): RowVerdict =>
    timedOutVerdict(p.provisionId, options.deadlineMs, why);

  async function reschedule(data: StatusJob, p: ProvisionRecord, minDelay = 0): Promise<number | undefined> {
    if (data.trigger === 'event') return undefined;
    const checks = data.checks + 1;
    const untilDeadline = Math.max(0, p.submittedAt + options.deadlineMs - now());
    // Never sleep far past the deadline: the check after it times the rows out.
    const delay = Math.min(
      Math.max(statusDelay(checks, options.firstDelayMs, options.maxDelayMs), minDelay),
      untilDeadline + 1_000,
    );
    const jobId = statusJobId(data.provisionId, checks);
    const next: StatusJob = {
      provisionId: data.provisionId,
      batchId: data.batchId,
      submittedAt: data.submittedAt,
      checks,
    };
    await deps.statusQueue.add('status', next, { jobId, delay });
    await store.setStatusJob(data.provisionId, jobId);
    return delay;
  }

  async function readOperations(provisionId: string, signal?: AbortSignal): Promise<Map<string, RowVerdict>> {
    const verdicts = new Map<string, RowVerdict>();
    await limiter.acquire(signal);
    for await (const op of status.iterateOperations(provisionId, {
      count: pageSize,
      ...(signal ? { signal } : {}),
    }) as AsyncIterable<ProvisionOperation>) {
      const ref = op.bulkId === undefined ? undefined : parseBulkId(op.bulkId);
      if (ref) verdicts.set(entryOf(ref.dropId, ref.row), verdictFor(op));
    }
    return verdicts;
  }

  return async function processStatusJob(job: Job, _token?: string, signal?: AbortSignal): Promise<StatusResult> {
    const data = parseJobData(statusJobSchema, STATUS_QUEUE, job);
    const p = await store.getProvision(data.provisionId);
    if (!p) return { outcome: 'gone' };
    const jlog = log.child({ provisionId: p.provisionId, batchId: p.batchId, check: data.checks });
    const pastDeadline = now() - p.submittedAt >= options.deadlineMs;

    let summary: ProvisionStatus;
    try {
      await limiter.acquire(signal);
      summary = await status.getStatus(p.provisionId, signal ? { signal } : {});
    } catch (err) {
      if (!isProvError(err)) throw err;
      const kind = concurErrorKind(err);
      if (kind === 'not_found') {
        jlog.warn('provision unknown to Concur');
        const states = await settle(p, new Map(), {
          state: 'extension_failed',
          patch: {
            code: err.code,
            error: `Concur does not know provision ${p.provisionId} (status answered 404); replay the rows`,
          },
        });
        return { outcome: 'settled', states };
      }
      // Past the deadline nothing is worth another attempt: the rows end now, whatever the error.
      if (pastDeadline && kind === 'auth' && !isTokenRefused(err)) {
        jlog.warn({ code: err.code }, 'status unreadable past the deadline');
        return {
          outcome: 'settled',
          states: await settle(p, new Map(), timedOut(p, `status check refused: ${err.code}`)),
        };
      }
      if (kind === 'auth' || (!err.retryable && kind !== 'response')) throw err;
      let wait = 0;
      if (kind === 'rate_limited') wait = await limiter.block(Number(err.details.retryAfterMs ?? 0) || 1_000);
      if (pastDeadline) return { outcome: 'settled', states: await settle(p, new Map(), timedOut(p)) };
      jlog.warn({ code: err.code }, 'status check failed, checking again later');
      return { outcome: 'pending', nextCheck: await reschedule(data, p, wait) };
    }

    if (!summary.status.completed) {
      if (pastDeadline) {
        jlog.warn('provision still pending past the deadline');
        return { outcome: 'settled', states: await settle(p, new Map(), timedOut(p)) };
      }
      return { outcome: 'pending', nextCheck: await reschedule(data, p) };
    }

    // The summary alone settles an all-success provision: one call per provision.
    const counts = summary.operationsCount;
    if (counts.failed === 0 && counts.pending === 0 && counts.total === p.entries.length) {
      const states = await settle(p, new Map(), { state: 'done', patch: {} });
      return { outcome: 'settled', states };
    }
    const verdicts = await readOperations(p.provisionId, signal);
    const missing: RowVerdict = {
      state: 'extension_failed',
      patch: {
        error: `Concur's status for provision ${p.provisionId} does not list this row's operation`,
        code: 'PROV_ERR_RESPONSE',
      },
    };
    const states = await settle(p, verdicts, missing);
    jlog.debug({ states }, 'provision settled');
    return { outcome: 'settled', states };
  };
}
