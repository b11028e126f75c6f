import { withConcurRetries } from '../../shared/concur/retry.ts';
import type { Job, Queue } from 'bullmq';
import type { Logger } from '../../shared/logger.ts';
import type { RowMove, RowOutcome } from '../../shared/ledger/ledger.ts';
import type { ExtensionLedger } from '../../shared/ledger/ports.ts';
import { ProvError, isProvError } from '../../shared/errors.ts';
import { concurErrorKind } from '../../shared/concur/errors.ts';
import { STOPPED_STATUSES } from '../../shared/ledger/states.ts';
import {
  BulkBuilder,
  bulkPatch,
  serializeOperation,
  splitBulk,
  type PackableOperation,
  type SerializedOperation,
  type UpsApi,
} from '../../shared/concur/ups.ts';
import { PATCH_OP_URN } from '../../shared/concur/schemas.ts';
import type { SharedRateLimiter } from '../../shared/rate-limiter.ts';
import { sleep as defaultSleep } from '../../shared/rate-limiter.ts';
import { toExtensionOperations } from '../../shared/mapping/to-scim.ts';
import type { NormalizedRow } from '../../shared/mapping/types.ts';
import { parseJobData } from '../../shared/queues/common.ts';
import {
  EXTENSION_QUEUE,
  batchJobId,
  extensionJobSchema,
  flushJobId,
  lingerFlushJobId,
  sweepFlushJobId,
  type ExtensionJob,
} from '../../shared/queues/extension.ts';
import { enqueueFirstCheck } from '../../shared/provisions/status-checks.ts';
import { enqueueLingerFlush } from '../../shared/provisions/handoff.ts';
import { bulkIdOf, entryOf, groupByDrop } from '../../shared/provisions/entries.ts';
import type { CutResult, ProvisionStore } from '../../shared/provisions/store.ts';

export interface ExtensionProcessorOptions {
  /** Operations per Bulk (EXTENSION_BATCH_MAX_OPS). */
  maxOps: number;
  /** Bytes per Bulk (EXTENSION_BATCH_MAX_BYTES). */
  maxBytes: number;
  /** Retries after 5xx / timeouts before the rows fail (EXTENSION_MAX_RETRIES). */
  maxRetries: number;
  /** First retry wait; doubles with full jitter up to `retryMaxMs`. Default 1000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** 429s waited out per Bulk before the job gives up and BullMQ retries it. Default 100. */
  maxRateLimitWaits?: number;
  /** Unsent batches older than this are re-enqueued (EXTENSION_SWEEP_AFTER_MS). */
  sweepAfterMs: number;
  /** STATUS_FIRST_DELAY_MS. */
  statusFirstDelayMs: number;
  /** Batches one flush cuts at most (bounds the Lua script's time). Default 50. */
  maxBatchesPerFlush?: number;
  /** How long ready rows wait for a batch to fill (EXTENSION_LINGER_MS). */
  lingerMs: number;
}

export interface ExtensionProcessorDeps {
  store: ProvisionStore;
  ledger: ExtensionLedger;
  ups: Pick<UpsApi, 'submitBulk'>;
  limiter: Pick<SharedRateLimiter, 'acquire' | 'block'>;
  extensionQueue: Pick<Queue, 'add' | 'addBulk' | 'remove'>;
  statusQueue: Pick<Queue, 'add'>;
  log: Logger;
  options: ExtensionProcessorOptions;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export type ExtensionResult =
  | { kind: 'flush'; batches: number; remaining: number; swept: number }
  | { kind: 'batch'; batchId: string; rows: number; provisions: string[]; failed: number };

type FlushJob = Extract<ExtensionJob, { kind: 'flush' }>;

type SubmitOutcome = { ok: true; provisionId: string } | { ok: false; rejected: boolean; error: ProvError };

/** A row's operation, serialized once: measured for the limits and sent as this text. */
interface PreparedOp extends SerializedOperation {
  entry: string;
}

/** The ledger's summary of a failure: code and one line, with Concur's messages kept. */
function failurePatch(err: ProvError): RowOutcome {
  const messages = err.details.messages;
  return {
    code: err.code,
    error: err.message,
    ...(Array.isArray(messages) && messages.length > 0
      ? { extensions: [{ name: 'request', code: String(err.statusCode ?? ''), messages }] }
      : {}),
  };
}

/** Why a row the batch owns cannot be sent (a broken hand-off from the identity stage). */
const NOT_SENDABLE: RowOutcome = {
  code: 'PROV_ERR_INTERNAL',
  error: 'Row has no stored record or no Concur uuid; cannot send its extensions',
};

/**
 * The extension stage: `flush` jobs cut the ready list into batches; `batch` jobs PATCH each row's
 * extensions through UPS Bulk, record the provision id on every row in one step, and enqueue the
 * status check. Crash-safe by construction: rows are owned by their batch until they have a provision
 * id, a retried batch re-sends only rows without one (a repeated PATCH is harmless), and unsent
 * batches are swept back into the queue.
 */
const BULK_RETRYABLE: ReadonlySet<string> = new Set(['retryable', 'response']);

export function createExtensionProcessor(deps: ExtensionProcessorDeps) {
  const { store, ledger, ups, limiter, log, options } = deps;
  const now = deps.now ?? Date.now;
  const wait = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const retryBase = options.retryBaseMs ?? 1_000;
  const retryMax = options.retryMaxMs ?? 30_000;
  const maxRateLimitWaits = options.maxRateLimitWaits ?? 100;
  const maxBatchesPerFlush = options.maxBatchesPerFlush ?? 50;

  async function enqueueBatches(batchIds: string[]): Promise<void> {
    const jobs = batchIds.map((batchId) => ({
      // Bull Board lists jobs by name: the batch id finds the batch (docs/operations.md#bull-board).
      name: `batch ${batchId}`,
      data: { kind: 'batch', batchId } satisfies ExtensionJob,
      opts: { jobId: batchJobId(batchId) },
    }));
    // A flush mostly cuts one batch: `add` is one script call, where addBulk builds an ioredis
    // pipeline, which copies every command defined on the connection (BullMQ's ~80 scripts).
    if (jobs.length === 1) await deps.extensionQueue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
    else if (jobs.length > 1) await deps.extensionQueue.addBulk(jobs);
  }

  async function sweep(): Promise<number> {
    const stale = await store.staleBatches(now() - options.sweepAfterMs);
    await enqueueBatches(stale);
    if (stale.length > 0) log.warn({ batches: stale.length }, 're-enqueued unsent extension batches');
    return stale.length;
  }

  /**
   * Cuts what is due into batches and enqueues them. A linger flush (`due`) cuts a partial batch
   * only once its first row has lingered, so a remainder left by a full batch waits to fill up
   * instead of going out small; whatever stays gets the flush of its own first row.
   */
  async function flush(data: FlushJob): Promise<ExtensionResult> {
    const fullOnly = data.fullOnly === true;
    const swept = await sweep();
    const at = now();
    const cutBefore = fullOnly || data.due === undefined ? undefined : Math.max(at, data.due) - options.lingerMs;
    const cut = await store.cut({
      maxOps: options.maxOps,
      maxBatches: maxBatchesPerFlush,
      fullOnly,
      now: at,
      ...(cutBefore === undefined ? {} : { cutBefore }),
    });
    for (const b of cut.batches) await ledger.claimBatch(b.batchId, b.entries);
    await enqueueBatches(cut.batches.map((b) => b.batchId));
    if (cut.remaining > 0) await flushRest(cut, data);
    await dropObsoleteLingerFlush(cut, data.due);
    return { kind: 'flush', batches: cut.batches.length, remaining: cut.remaining, swept };
  }

  /** What a flush left behind gets the next flush: now when the cut was bounded, else at its linger. */
  async function flushRest(cut: CutResult, data: FlushJob): Promise<void> {
    const fullOnly = data.fullOnly === true;
    if (cut.batches.length === maxBatchesPerFlush && (!fullOnly || cut.remaining >= options.maxOps)) {
      await deps.extensionQueue.add(
        'flush',
        {
          kind: 'flush',
          ...(fullOnly ? { fullOnly } : {}),
          ...(data.due === undefined ? {} : { due: data.due }),
        } satisfies ExtensionJob,
        { jobId: flushJobId(cut.generation, fullOnly) },
      );
    } else {
      await enqueueLingerFlush(deps.extensionQueue, cut.headSince, options.lingerMs, now());
    }
  }

  /**
   * A full batch cut off the rows whose linger flush is still waiting: that flush would find their
   * successors not due yet and only ask again for the flush just asked for. Removing it spares a
   * job (and two wake-ups of every worker); a removal that fails leaves a flush that cuts nothing.
   */
  async function dropObsoleteLingerFlush(cut: CutResult, ownDue: number | undefined): Promise<void> {
    if (cut.batches.length === 0 || cut.headSinceBefore === undefined || cut.headSince === cut.headSinceBefore) return;
    const due = cut.headSinceBefore + options.lingerMs;
    if (due === ownDue) return;
    await deps.extensionQueue.remove(lingerFlushJobId(due)).catch((err: unknown) => {
      log.debug({ err, due }, 'could not remove an obsolete linger flush');
    });
  }

  /** One Bulk POST under the shared retry rules. Whole-request rejections come back as `rejected`. */
  async function submit(ops: readonly PackableOperation[], signal?: AbortSignal): Promise<SubmitOutcome> {
    try {
      const res = await withConcurRetries(
        async () => {
          await limiter.acquire(signal);
          return ups.submitBulk(ops, signal ? { signal } : {});
        },
        { attempts: options.maxRetries + 1, baseMs: retryBase, maxMs: retryMax, maxRateLimited: maxRateLimitWaits },
        // An unreadable 2xx may still have been accepted: re-sending the same PATCHes is harmless.
        { block: (ms) => limiter.block(ms), log, random, wait, retryableKinds: BULK_RETRYABLE },
        signal,
      );
      return { ok: true, provisionId: res.provisionId };
    } catch (err) {
      if (!isProvError(err)) throw err;
      const kind = concurErrorKind(err);
      if (kind !== undefined && BULK_RETRYABLE.has(kind)) return { ok: false, rejected: false, error: err };
      if (kind === 'invalid' || kind === 'not_found' || kind === 'conflict')
        return { ok: false, rejected: true, error: err };
      // auth and anything unknown: the job fails and BullMQ retries it later.
      throw err;
    }
  }

  /** Moves rows of one drop out of `extension_batched` in one round trip; returns how many moved. */
  async function moveBatched(dropId: string, moves: readonly RowMove[]): Promise<number> {
    const results = await ledger.transitionMany(dropId, moves);
    return results.filter((r) => r.result === 'ok').length;
  }

  async function failEntries(entries: readonly string[], patch: RowOutcome): Promise<number> {
    let failed = 0;
    for (const [dropId, rows] of groupByDrop(entries)) {
      failed += await moveBatched(
        dropId,
        rows.map((row) => ({ row, to: 'extension_failed', from: ['extension_batched'], patch })),
      );
    }
    return failed;
  }

  /** Sends one chunk; a whole-request rejection splits it in halves down to single rows. */
  async function sendChunk(
    batchId: string,
    chunk: PreparedOp[],
    provisions: string[],
    signal?: AbortSignal,
  ): Promise<number> {
    const outcome = await submit(chunk, signal);
    const entries = chunk.map((p) => p.entry);
    if (outcome.ok) {
      const submittedAt = now();
      await ledger.recordSubmission({ provisionId: outcome.provisionId, batchId, entries, submittedAt });
      await enqueueFirstCheck(
        deps.statusQueue,
        store,
        { provisionId: outcome.provisionId, batchId, submittedAt },
        options.statusFirstDelayMs,
      );
      provisions.push(outcome.provisionId);
      return 0;
    }
    if (outcome.rejected && chunk.length > 1) {
      const half = Math.ceil(chunk.length / 2);
      log.warn(
        { batchId, ops: chunk.length, statusCode: outcome.error.statusCode },
        'bulk rejected as a whole, splitting it',
      );
      return (
        (await sendChunk(batchId, chunk.slice(0, half), provisions, signal)) +
        (await sendChunk(batchId, chunk.slice(half), provisions, signal))
      );
    }
    log.warn(
      { batchId, rows: entries.length, code: outcome.error.code, statusCode: outcome.error.statusCode },
      'extension rows failed at submission',
    );
    return failEntries(entries, failurePatch(outcome.error));
  }

  /**
   * A paused (failure brake), held or cancelled drop sends nothing more: its rows go back to
   * `identity_done`, where `provision approve` picks them up again (cancel ends them).
   */
  async function holdBack(dropId: string, rows: readonly number[]): Promise<boolean> {
    const status = await ledger.dropStatus(dropId);
    if (status === undefined || !STOPPED_STATUSES.has(status)) return false;
    await moveBatched(
      dropId,
      rows.map((row) => ({ row, to: 'identity_done', from: ['extension_batched'] })),
    );
    log.info({ dropId, status, rows: rows.length }, 'drop is not running; extension rows wait for approve');
    return true;
  }

  /**
   * Builds one PATCH per owned row, serialized once; rows that cannot be sent end here (per drop,
   * their moves in one round trip).
   */
  async function prepare(owned: string[]): Promise<{ ops: PreparedOp[]; failed: number; done: number }> {
    const ops: PreparedOp[] = [];
    let failed = 0;
    let done = 0;
    const sizer = new BulkBuilder({ maxOperations: options.maxOps, maxBytes: options.maxBytes });
    for (const [dropId, rows] of groupByDrop(owned)) {
      if (await holdBack(dropId, rows)) continue;
      const ended: RowMove[] = [];
      const fail = (row: number, patch: RowOutcome): void => {
        ended.push({ row, to: 'extension_failed', from: ['extension_batched'], patch });
      };
      for (const r of await ledger.getRows<NormalizedRow>(dropId, rows)) {
        const uuid = r.outcome.uuid;
        if (r.data === undefined || typeof uuid !== 'string') {
          fail(r.row, NOT_SENDABLE);
          continue;
        }
        const operations = toExtensionOperations(r.data, {
          created: r.outcome.action === 'create',
          rightsOnly: r.outcome.profileLeft === true,
        });
        if (operations.length === 0) {
          // Nothing to send: identity was all this row needed.
          ended.push({ row: r.row, to: 'done', from: ['extension_batched'] });
          continue;
        }
        const op = serializeOperation(
          bulkPatch(uuid, { schemas: [PATCH_OP_URN], Operations: operations }, bulkIdOf(dropId, r.row)),
        );
        if (op.bytes + 200 > sizer.maxBytes) {
          fail(r.row, {
            code: 'PROV_ERR_INPUT',
            error: `The row's extensions are larger than one Bulk request may carry (${sizer.maxBytes} bytes)`,
          });
          continue;
        }
        ops.push({ ...op, entry: entryOf(dropId, r.row) });
      }
      const results = await ledger.transitionMany(dropId, ended);
      results.forEach((t, i) => {
        if (t.result !== 'ok') return;
        if (ended[i]!.to === 'done') done += 1;
        else failed += 1;
      });
    }
    return { ops, failed, done };
  }

  async function sendBatch(batchId: string, job: Job | undefined, signal?: AbortSignal): Promise<ExtensionResult> {
    const batch = await store.getBatch(batchId);
    if (!batch) return { kind: 'batch', batchId, rows: 0, provisions: [], failed: 0 };
    const owned = await ledger.claimBatch(batchId, batch.entries);
    // A retry after a crash: provisions already recorded must have their status check.
    for (const pid of batch.provisions) {
      const p = await store.getProvision(pid);
      if (p && (await store.statusJobOf(pid)) === undefined) {
        await enqueueFirstCheck(
          deps.statusQueue,
          store,
          { provisionId: pid, batchId, submittedAt: p.submittedAt },
          options.statusFirstDelayMs,
        );
      }
    }
    const provisions: string[] = [];
    let failed = 0;
    try {
      const prepared = await prepare(owned);
      failed += prepared.failed;
      const chunks = splitBulk(prepared.ops, { maxOperations: options.maxOps, maxBytes: options.maxBytes });
      for (const chunk of chunks) failed += await sendChunk(batchId, chunk, provisions, signal);
    } catch (err) {
      // On the job's last attempt the rows end with the error instead of waiting forever; token
      // trouble never fails rows (a refused credential pauses the queue, a second 401 retries).
      const last = job !== undefined && job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (!last || concurErrorKind(err) === 'auth') throw err;
      const error = isProvError(err)
        ? err
        : new ProvError('PROV_ERR_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
      const left = await ledger.claimBatch(batchId, batch.entries);
      failed += await failEntries(left, failurePatch(error));
      log.error({ err: error.toJSON(), batchId }, 'extension batch gave up');
    }
    await store.finishBatch(batchId);
    return { kind: 'batch', batchId, rows: owned.length, provisions, failed };
  }

  return async function processExtensionJob(job: Job, _token?: string, signal?: AbortSignal): Promise<ExtensionResult> {
    const data = parseJobData(extensionJobSchema, EXTENSION_QUEUE, job);
    if (data.kind === 'flush') return flush(data);
    return sendBatch(data.batchId, job, signal);
  };
}

/**
 * Worker start (and a periodic timer): re-enqueue every unsent batch (job ids dedupe against jobs
 * that still exist) and flush whatever waits in the ready list. Recovers from a crash between
 * cutting a batch and enqueuing it, or between `ready()`'s push and its flush job.
 */
export async function recoverExtensionStage(
  deps: Pick<ExtensionProcessorDeps, 'store' | 'extensionQueue'>,
  before = Number.POSITIVE_INFINITY,
): Promise<number> {
  const unsent = await deps.store.staleBatches(before);
  if (unsent.length > 0) {
    await deps.extensionQueue.addBulk(
      unsent.map((batchId) => ({
        // Bull Board lists jobs by name: the batch id finds the batch (docs/operations.md#bull-board).
        name: `batch ${batchId}`,
        data: { kind: 'batch', batchId } satisfies ExtensionJob,
        opts: { jobId: batchJobId(batchId) },
      })),
    );
  }
  if ((await deps.store.readyLength()) > 0) {
    const generation = await deps.store.generation();
    await deps.extensionQueue.add('flush', { kind: 'flush' } satisfies ExtensionJob, {
      jobId: sweepFlushJobId(generation, Date.now()),
    });
  }
  return unsent.length;
}
