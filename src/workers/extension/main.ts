import { EXTENSION_QUEUE } from '../../shared/queues/extension.ts';
import { SharedRateLimiter } from '../../shared/rate-limiter.ts';
import { connectConcur, createRuntime } from '../runtime.ts';
import { describeExtensionJob } from '../job-spans.ts';
import { startWorker } from '../start-worker.ts';
import { createExtensionProcessor, recoverExtensionStage } from './processor.ts';
import { ExtensionStore } from './store.ts';

export interface ExtensionWorkerOptions {
  concurrency?: number;
  env?: Record<string, string | undefined>;
}

/** The UPS limiter's key: shared by extension and status workers (both call UPS). */
export function upsLimiterKey(prefix: string): string {
  return `${prefix}:ratelimit:ups`;
}

/** `provision worker extension`: Bulk PATCHes of Spend/Travel extensions, limited by UPS_MAX_RPS. */
export async function runExtensionWorker(options: ExtensionWorkerOptions = {}): Promise<void> {
  const rt = createRuntime('extension-worker', 'worker', options.env);
  const { config, redis, queues, log } = rt;
  const limiter = new SharedRateLimiter(redis, upsLimiterKey(config.QUEUE_PREFIX), { rps: config.UPS_MAX_RPS });
  // The processor acquires the limiter itself (once per Bulk), so the client gets no UPS gate.
  const concur = connectConcur(rt);
  const store = new ExtensionStore(redis, config.QUEUE_PREFIX);
  const deps = {
    store,
    ledger: rt.ledger,
    ups: concur.ups,
    limiter,
    extensionQueue: queues.extension,
    statusQueue: queues.status,
    log,
    options: {
      maxOps: config.EXTENSION_BATCH_MAX_OPS,
      maxBytes: config.EXTENSION_BATCH_MAX_BYTES,
      maxRetries: config.EXTENSION_MAX_RETRIES,
      sweepAfterMs: config.EXTENSION_SWEEP_AFTER_MS,
      statusFirstDelayMs: config.STATUS_FIRST_DELAY_MS,
    },
  };
  startWorker(rt, EXTENSION_QUEUE, createExtensionProcessor(deps), {
    concurrency: options.concurrency ?? config.EXTENSION_CONCURRENCY,
    describeJob: describeExtensionJob(store),
  });
  await recoverExtensionStage(deps);
  // Another process may have died between cutting a batch and enqueuing it: sweep now and then.
  const timer = setInterval(() => {
    recoverExtensionStage(deps, Date.now() - config.EXTENSION_SWEEP_AFTER_MS).catch((err: unknown) =>
      log.warn({ err }, 'extension sweep failed'),
    );
  }, config.EXTENSION_SWEEP_AFTER_MS);
  timer.unref();
  rt.shutdown.register('extension sweep', () => clearInterval(timer));
  rt.shutdown.installSignalHandlers();
}
