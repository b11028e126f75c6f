import { randomBytes } from 'node:crypto';
import { guardsFromConfig } from '../../shared/guards/limits.ts';
import { IDENTITY_QUEUE, releasedRowJobs } from '../../shared/queues/identity.ts';
import { SharedRateLimiter } from '../../shared/rate-limiter.ts';
import { DEFAULT_RETRY } from '../../shared/concur/retry.ts';
import { createExtensionHandoff } from '../extension/handoff.ts';
import { connectConcur, createRuntime } from '../runtime.ts';
import { startWorker } from '../start-worker.ts';
import { createIdentityProcessor, settleFailedIdentityJob } from './processor.ts';

export interface IdentityWorkerOptions {
  concurrency?: number;
  env?: Record<string, string | undefined>;
}

/** `provision worker identity`: the identity stage, limited by the shared IDENTITY_MAX_RPS. */
export async function runIdentityWorker(options: IdentityWorkerOptions = {}): Promise<void> {
  const rt = createRuntime('identity-worker', 'worker', options.env);
  const { config, redis, queues, log } = rt;
  const limiter = new SharedRateLimiter(redis, `${config.QUEUE_PREFIX}:ratelimit:identity`, { rps: config.IDENTITY_MAX_RPS });
  const concur = connectConcur(rt, { identity: limiter });
  const handoff = createExtensionHandoff({ redis, queues, prefix: config.QUEUE_PREFIX, lingerMs: config.EXTENSION_LINGER_MS, maxOps: config.EXTENSION_BATCH_MAX_OPS, log });
  const processor = createIdentityProcessor({
    ledger: rt.ledger,
    identity: concur.identity,
    block: (ms) => limiter.block(ms),
    companyId: config.CONCUR_COMPANY_ID,
    handoff,
    requeue: async (dropId, rows) => {
      await queues.identity.addBulk(releasedRowJobs(dropId, rows, randomBytes(4).toString('hex')));
    },
    retry: { ...DEFAULT_RETRY, attempts: config.IDENTITY_RETRY_ATTEMPTS },
    log,
    brake: guardsFromConfig(config),
  });
  startWorker(rt, IDENTITY_QUEUE, processor, {
    concurrency: options.concurrency ?? config.IDENTITY_CONCURRENCY,
    onFailedForGood: (job, err) => settleFailedIdentityJob(rt.ledger, job, err),
  });
  rt.shutdown.installSignalHandlers();
}
