import { guardsFromConfig } from '../../shared/guards/limits.ts';
import { IDENTITY_QUEUE, releasedRowsRequeue } from '../../shared/queues/identity.ts';
import { DEFAULT_RETRY } from '../../shared/concur/retry.ts';
import { RecentWrites, recentWritesKey } from '../../shared/identity/recent-writes.ts';
import { createExtensionHandoff } from '../../shared/provisions/handoff.ts';
import { connectConcur, createRuntime, rateLimiter } from '../../shared/runtime.ts';
import { describeIdentityJob } from '../job-spans.ts';
import { startWorker } from '../start-worker.ts';
import { createIdentityProcessor, settleFailedIdentityJob } from './processor.ts';
import { startStrandedRowsRepair } from './repair.ts';
import { startLedgerCompaction } from './compaction.ts';
import { startNotifier } from '../notifier.ts';

export interface IdentityWorkerOptions {
  concurrency?: number;
  env?: Record<string, string | undefined>;
}

/** `provision worker identity`: the identity stage, limited by the shared IDENTITY_MAX_RPS (auto: found). */
export async function runIdentityWorker(options: IdentityWorkerOptions = {}): Promise<void> {
  const rt = createRuntime('identity-worker', 'worker', options.env);
  const { config, redis, queues, log } = rt;
  const limiter = rateLimiter(rt, 'identity');
  const concur = connectConcur(rt, { gates: { identity: limiter }, limiters: [limiter] });
  const handoff = createExtensionHandoff({
    redis,
    queues,
    prefix: config.QUEUE_PREFIX,
    lingerMs: config.EXTENSION_LINGER_MS,
    maxOps: config.EXTENSION_BATCH_MAX_OPS,
    log,
  });
  const requeue = releasedRowsRequeue(queues.identity);
  const processor = createIdentityProcessor({
    ledger: rt.ledger,
    identity: concur.identity,
    block: (ms) => limiter.block(ms),
    companyId: config.CONCUR_COMPANY_ID,
    handoff,
    requeue,
    retry: { ...DEFAULT_RETRY, attempts: config.IDENTITY_RETRY_ATTEMPTS },
    log,
    brake: guardsFromConfig(config),
    conflictGuard: guardsFromConfig(config),
    matchOn: config.MATCH_ON,
    recent: new RecentWrites(
      redis,
      recentWritesKey(config.QUEUE_PREFIX, config.CONCUR_COMPANY_ID),
      config.CONFLICT_RESOLVE_MAX_MS,
    ),
    conflictResolveMaxMs: config.CONFLICT_RESOLVE_MAX_MS,
  });
  startWorker(rt, IDENTITY_QUEUE, processor, {
    concurrency: options.concurrency ?? config.IDENTITY_CONCURRENCY,
    onFailedForGood: (job, err) => settleFailedIdentityJob(rt.ledger, job, err, requeue),
    describeJob: describeIdentityJob,
  });
  if (config.IDENTITY_REPAIR_INTERVAL_MS > 0) {
    // Quiet for a third of the interval: long beside any job's gap between two ledger writes.
    const repair = startStrandedRowsRepair(
      {
        ledger: rt.ledger,
        identityQueue: queues.identity,
        redis,
        prefix: config.QUEUE_PREFIX,
        log,
        quietMs: Math.ceil(config.IDENTITY_REPAIR_INTERVAL_MS / 3),
      },
      config.IDENTITY_REPAIR_INTERVAL_MS,
    );
    rt.shutdown.register('stranded-rows repair', () => repair.stop());
  }
  if (config.LEDGER_COMPACT_INTERVAL_MS > 0) {
    const compaction = startLedgerCompaction(
      { ledger: rt.ledger, redis, prefix: config.QUEUE_PREFIX, log },
      config.LEDGER_COMPACT_INTERVAL_MS,
    );
    rt.shutdown.register('ledger compaction', () => compaction.stop());
  }
  // Every worker process announces drop events when notifications are configured (one send per event).
  startNotifier(rt);
  rt.shutdown.installSignalHandlers();
}
