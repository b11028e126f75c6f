import { ProvisionStore } from '../../shared/provisions/store.ts';
import { EXTENSION_QUEUE } from '../../shared/queues/extension.ts';
import { describeExtensionJob } from '../job-spans.ts';
import type { Stage, StageParts } from '../stage.ts';
import {
  createExtensionProcessor,
  recoverExtensionStage,
  type ExtensionProcessorDeps,
  type ExtensionProcessorOptions,
} from './processor.ts';

export interface ExtensionStageParts extends StageParts {
  ups: ExtensionProcessorDeps['ups'];
  /** The shared UPS limiter: the processor acquires it once per Bulk. */
  limiter: ExtensionProcessorDeps['limiter'];
  concurrency?: number;
  /** Tests: faster retries. */
  overrides?: Partial<ExtensionProcessorOptions>;
  /** Tests: where status checks are enqueued (default: the status queue). */
  statusQueue?: ExtensionProcessorDeps['statusQueue'];
}

/**
 * The extension stage: Bulk PATCHes of the rows the identity stage handed off, its worker options,
 * a recovery at start and a periodic sweep of unsent batches (another process may have died
 * between cutting a batch and enqueuing it).
 */
export function extensionStage(parts: ExtensionStageParts): Stage & { store: ProvisionStore } {
  const { config, redis, queues, log } = parts;
  const store = new ProvisionStore(redis, config.QUEUE_PREFIX);
  const deps: ExtensionProcessorDeps = {
    store,
    ledger: parts.ledger,
    ups: parts.ups,
    limiter: parts.limiter,
    extensionQueue: queues.extension,
    statusQueue: parts.statusQueue ?? queues.status,
    log,
    options: {
      maxOps: config.EXTENSION_BATCH_MAX_OPS,
      maxBytes: config.EXTENSION_BATCH_MAX_BYTES,
      maxRetries: config.EXTENSION_MAX_RETRIES,
      sweepAfterMs: config.EXTENSION_SWEEP_AFTER_MS,
      statusFirstDelayMs: config.STATUS_FIRST_DELAY_MS,
      lingerMs: config.EXTENSION_LINGER_MS,
      ...parts.overrides,
    },
  };
  return {
    store,
    queue: EXTENSION_QUEUE,
    processor: createExtensionProcessor(deps) as Stage['processor'],
    worker: {
      concurrency: parts.concurrency ?? config.EXTENSION_CONCURRENCY,
      describeJob: describeExtensionJob(store),
    },
    recover: () => recoverExtensionStage(deps),
    chores: [
      {
        name: 'extension sweep',
        start: () => {
          const timer = setInterval(() => {
            recoverExtensionStage(deps, Date.now() - config.EXTENSION_SWEEP_AFTER_MS).catch((err: unknown) =>
              log.warn({ err }, 'extension sweep failed'),
            );
          }, config.EXTENSION_SWEEP_AFTER_MS);
          timer.unref();
          return { stop: () => clearInterval(timer) };
        },
      },
    ],
  };
}
