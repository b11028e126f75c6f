import { DEFAULT_RETRY } from '../../shared/concur/retry.ts';
import { guardsFromConfig } from '../../shared/guards/limits.ts';
import { PersonAsOf } from '../../shared/identity/as-of.ts';
import { RecentWrites, recentWritesKey } from '../../shared/identity/recent-writes.ts';
import { createExtensionHandoff } from '../../shared/provisions/handoff.ts';
import { IDENTITY_QUEUE, releasedRowsRequeue } from '../../shared/queues/identity.ts';
import { describeIdentityJob } from '../job-spans.ts';
import type { Stage, StageChore, StageParts } from '../stage.ts';
import { startLedgerCompaction } from './compaction.ts';
import { createIdentityProcessor, settleFailedIdentityJob, type IdentityProcessorDeps } from './processor.ts';
import { startStrandedRowsRepair } from './repair.ts';

export interface IdentityStageParts extends StageParts {
  identity: IdentityProcessorDeps['identity'];
  /** Blocks the shared identity limiter for Retry-After. */
  block: IdentityProcessorDeps['block'];
  concurrency?: number;
  /** Tests: faster call retries, another company. */
  overrides?: Partial<Pick<IdentityProcessorDeps, 'retry' | 'companyId'>>;
}

/**
 * The identity stage: processor (with the hand-off to the extension stage and the re-enqueue of
 * released rows), worker options (rows of a job failed for good are settled), and the
 * stranded-rows repair and ledger compaction beside it.
 */
export function identityStage(parts: IdentityStageParts): Stage {
  const { config, redis, queues, ledger, log } = parts;
  const handoff = createExtensionHandoff({
    redis,
    queues,
    prefix: config.QUEUE_PREFIX,
    lingerMs: config.EXTENSION_LINGER_MS,
    maxOps: config.EXTENSION_BATCH_MAX_OPS,
    log,
  });
  const requeue = releasedRowsRequeue(queues.identity);
  const asOf = new PersonAsOf(
    redis,
    config.QUEUE_PREFIX,
    config.CONCUR_COMPANY_ID,
    config.PERSON_AS_OF_TTL_DAYS * 24 * 3600 * 1000,
  );
  const processor = createIdentityProcessor({
    ledger,
    identity: parts.identity,
    block: parts.block,
    companyId: config.CONCUR_COMPANY_ID,
    handoff,
    requeue,
    retry: { ...DEFAULT_RETRY, attempts: config.IDENTITY_RETRY_ATTEMPTS },
    log,
    brake: guardsFromConfig(config),
    conflictGuard: guardsFromConfig(config),
    activeGuard: guardsFromConfig(config),
    asOf,
    matchOn: config.MATCH_ON,
    recent: new RecentWrites(
      redis,
      recentWritesKey(config.QUEUE_PREFIX, config.CONCUR_COMPANY_ID),
      config.CONFLICT_RESOLVE_MAX_MS,
    ),
    conflictResolveMaxMs: config.CONFLICT_RESOLVE_MAX_MS,
    ...parts.overrides,
  });
  const chores: StageChore[] = [];
  if (config.IDENTITY_REPAIR_INTERVAL_MS > 0) {
    chores.push({
      name: 'stranded-rows repair',
      // Quiet for a third of the interval: long beside any job's gap between two ledger writes.
      start: () =>
        startStrandedRowsRepair(
          {
            ledger,
            identityQueue: queues.identity,
            redis,
            prefix: config.QUEUE_PREFIX,
            log,
            quietMs: Math.ceil(config.IDENTITY_REPAIR_INTERVAL_MS / 3),
          },
          config.IDENTITY_REPAIR_INTERVAL_MS,
        ),
    });
  }
  if (config.LEDGER_COMPACT_INTERVAL_MS > 0) {
    chores.push({
      name: 'ledger compaction',
      start: () =>
        startLedgerCompaction(
          { ledger, redis, prefix: config.QUEUE_PREFIX, log, asOf },
          config.LEDGER_COMPACT_INTERVAL_MS,
        ),
    });
  }
  return {
    queue: IDENTITY_QUEUE,
    processor: processor as Stage['processor'],
    worker: {
      concurrency: parts.concurrency ?? config.IDENTITY_CONCURRENCY,
      onFailedForGood: (job, err) => settleFailedIdentityJob(ledger, job, err, requeue),
      describeJob: describeIdentityJob,
    },
    chores,
  };
}
