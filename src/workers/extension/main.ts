import { EXTENSION_QUEUE } from '../../shared/queues/extension.ts';
import { connectConcur, createRuntime, rateLimiter } from '../../shared/runtime.ts';
import { describeExtensionJob } from '../job-spans.ts';
import { startWorker } from '../start-worker.ts';
import { createExtensionProcessor, recoverExtensionStage } from './processor.ts';
import { ProvisionStore } from '../../shared/provisions/store.ts';
import { startNotifier } from '../notifier.ts';

export interface ExtensionWorkerOptions {
  concurrency?: number;
  env?: Record<string, string | undefined>;
}

/** `provision worker extension`: Bulk PATCHes of Spend/Travel extensions, limited by UPS_MAX_RPS. */
export async function runExtensionWorker(options: ExtensionWorkerOptions = {}): Promise<void> {
  const rt = createRuntime('extension-worker', 'worker', options.env);
  const { config, redis, queues, log } = rt;
  // Shared with the status workers (both call UPS). The processor acquires it itself (once per
  // Bulk), so the client gets no UPS gate; the limiter still sees every call.
  const limiter = rateLimiter(rt, 'ups');
  const concur = connectConcur(rt, { limiters: [limiter] });
  const store = new ProvisionStore(redis, config.QUEUE_PREFIX);
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
  // Every worker process announces drop events when notifications are configured (one send per event).
  startNotifier(rt);
  rt.shutdown.installSignalHandlers();
}
